package dev.lbkit.l4;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

/** Blocking socket helpers for tests; every read has a timeout. */
final class Net {
    static final InetSocketAddress ANY_LOOPBACK = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    private Net() {}

    /** A TCP service on loopback (ephemeral port), scheduler {@code rr}, with the one real server {@code real}. */
    static VirtualServer rrService(L4Balancer lb, InetSocketAddress real) {
        return lb.addService(VirtualService.tcp(ANY_LOOPBACK).scheduler("rr").realServer(real).build());
    }

    static Socket connect(InetSocketAddress address) throws IOException {
        Socket s = new Socket();
        s.setSoTimeout(5000);
        s.connect(address, 5000);
        return s;
    }

    /** Connects from {@code localHost} (any port) and checks one byte makes the round trip through an echo. */
    static Socket connectFrom(String localHost, InetSocketAddress service) throws IOException {
        Socket s = new Socket();
        s.setSoTimeout(5000);
        s.bind(new InetSocketAddress(localHost, 0));
        s.connect(service, 5000);
        if (!"x".equals(echo(s, "x"))) {
            s.close();
            throw new IOException("no echo through " + service);
        }
        return s;
    }

    /** Sends {@code text} and reads back exactly as many bytes. */
    static String echo(Socket s, String text) throws IOException {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        s.getOutputStream().write(b);
        s.getOutputStream().flush();
        return new String(s.getInputStream().readNBytes(b.length), StandardCharsets.UTF_8);
    }

    /** A UDP client socket bound to {@code host} (any port), whose receives time out after 5 s. */
    static DatagramSocket udpClient(String host) throws IOException {
        DatagramSocket s = new DatagramSocket(new InetSocketAddress(host, 0));
        s.setSoTimeout(5000);
        return s;
    }

    /** Sends {@code q} to a UDP {@code service} and returns the reply's text, checking it comes from the service. */
    static String ask(DatagramSocket client, InetSocketAddress service, String q) throws IOException {
        byte[] b = q.getBytes(StandardCharsets.UTF_8);
        client.send(new DatagramPacket(b, b.length, service));
        DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
        client.receive(p);
        if (!service.equals(p.getSocketAddress())) {
            throw new AssertionError("the reply came from " + p.getSocketAddress() + ", not the service " + service);
        }
        return new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8);
    }

    /** Reads until EOF. */
    static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        in.transferTo(out);
        return out.toByteArray();
    }

    /** Reads {@code s} until EOF on another thread, so that the caller can write meanwhile. */
    static CompletableFuture<byte[]> readAllAsync(Socket s) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return readAll(s.getInputStream());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** One HTTP/1.0 request as curl sends it; returns the whole response (the server closes). */
    static String http10(InetSocketAddress address) throws IOException {
        try (Socket s = connect(address)) {
            s.getOutputStream().write(("GET / HTTP/1.0\r\nHost: " + address.getHostString() + "\r\n"
                    + "User-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            return new String(readAll(s.getInputStream()), StandardCharsets.UTF_8);
        }
    }
}
