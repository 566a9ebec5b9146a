package dev.lbkit.l7.internal;

import io.netty.util.NetUtil;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/**
 * Checks a server certificate against the name the proxy expects (RFC 6125 / RFC 2818): a DNS name
 * against the certificate's DNS subject alternative names, with a wildcard only as the whole leftmost
 * label; an IP address against its IP address names. No fallback to the subject's common name, as
 * browsers. Used when the TLS engine cannot check the name itself: with SNI off, no peer host is given
 * to the engine, since OpenSSL would send it as SNI. Stateless.
 */
final class HostNames {
    private static final int SAN_DNS = 2;
    private static final int SAN_IP = 7;

    private HostNames() {}

    /** Whether {@code cert} is valid for {@code name} (a host name or an IP literal). */
    static boolean matches(X509Certificate cert, String name) {
        Collection<List<?>> sans;
        try {
            sans = cert.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            return false;
        }
        if (sans == null) {
            return false;
        }
        byte[] ip = NetUtil.createByteArrayFromIpAddressString(name);
        for (List<?> san : sans) {
            int type = (Integer) san.get(0);
            Object value = san.get(1);
            if (ip != null && type == SAN_IP && value instanceof String
                    && Arrays.equals(ip, NetUtil.createByteArrayFromIpAddressString((String) value))) {
                return true;
            }
            if (ip == null && type == SAN_DNS && value instanceof String && dnsMatches((String) value, name)) {
                return true;
            }
        }
        return false;
    }

    /** Whether DNS name {@code pattern} from a certificate covers {@code name}, case-insensitively. */
    static boolean dnsMatches(String pattern, String name) {
        String p = stripDot(pattern.toLowerCase(Locale.ROOT));
        String n = stripDot(name.toLowerCase(Locale.ROOT));
        if (!p.startsWith("*.")) {
            return !p.isEmpty() && p.equals(n);
        }
        String suffix = p.substring(1);
        // "*.com" would cover a whole top-level domain: refused, as browsers do.
        if (suffix.indexOf('.', 1) < 0 || !n.endsWith(suffix)) {
            return false;
        }
        String label = n.substring(0, n.length() - suffix.length());
        return !label.isEmpty() && label.indexOf('.') < 0;
    }

    private static String stripDot(String s) {
        return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
    }
}
