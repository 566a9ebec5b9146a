package dev.lbkit.l7;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * A self-signed EC certificate for localhost, {@value #SNI_NAME} and 127.0.0.1, made with the JDK's
 * keytool: the key store and a trust store holding the certificate, as PKCS12 files (password
 * {@code changeit}) and as factories.
 */
final class TestCertificate {
    static final char[] PASSWORD = "changeit".toCharArray();
    /** A name in the certificate with a dot: SNI carries only such names (RFC 6066 §3; JDK and Netty agree). */
    static final String SNI_NAME = "upstream.lbkit.test";

    final Path dir;
    final Path keyStore;
    final Path trustStore;
    final KeyManagerFactory keys;
    final TrustManagerFactory trust;

    private TestCertificate(Path dir, Path keyStore, Path trustStore, KeyManagerFactory keys, TrustManagerFactory trust) {
        this.dir = dir;
        this.keyStore = keyStore;
        this.trustStore = trustStore;
        this.keys = keys;
        this.trust = trust;
    }

    static TestCertificate create() throws Exception {
        Path dir = Files.createTempDirectory("lbkit-tls");
        Path ks = dir.resolve("server.p12");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-keystore", ks.toString(), "-storetype", "PKCS12", "-storepass", "changeit",
                "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2",
                "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,dns:" + SNI_NAME + ",ip:127.0.0.1")
                .redirectErrorStream(true).start();
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("keytool failed: " + new String(p.getInputStream().readAllBytes()));
        }
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(ks)) {
            store.load(in, PASSWORD);
        }
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(store, PASSWORD);
        KeyStore trustStore = KeyStore.getInstance("PKCS12");
        trustStore.load(null, null);
        trustStore.setCertificateEntry("server", store.getCertificate("server"));
        Path ts = dir.resolve("upstream-cas.p12");
        try (OutputStream out = Files.newOutputStream(ts)) {
            trustStore.store(out, PASSWORD);
        }
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(trustStore);
        return new TestCertificate(dir, ks, ts, keys, trust);
    }

    /** Removes the files. */
    void delete() throws Exception {
        Files.deleteIfExists(keyStore);
        Files.deleteIfExists(trustStore);
        Files.deleteIfExists(dir);
    }
}
