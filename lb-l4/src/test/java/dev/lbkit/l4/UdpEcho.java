package dev.lbkit.l4;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * A UDP server on loopback for tests: records every datagram as received and answers each, from the port
 * it was sent to, with what {@code answer} makes of it.
 */
final class UdpEcho implements AutoCloseable {
    final DatagramSocket socket;
    final Thread thread;
    /** Every datagram received, in order. */
    final BlockingQueue<byte[]> received = new LinkedBlockingQueue<>();

    /** Answers with its name, a colon and the datagram. */
    UdpEcho(String name) throws IOException {
        this(b -> (name + ":" + new String(b, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8));
    }

    UdpEcho(UnaryOperator<byte[]> answer) throws IOException {
        socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        thread = new Thread(() -> {
            byte[] buf = new byte[2048];
            while (!socket.isClosed()) {
                try {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    socket.receive(p);
                    byte[] in = Arrays.copyOf(p.getData(), p.getLength());
                    received.add(in);
                    byte[] reply = answer.apply(in);
                    socket.send(new DatagramPacket(reply, reply.length, p.getSocketAddress()));
                } catch (IOException e) {
                    return;
                }
            }
        });
        thread.setDaemon(true);
        thread.start();
    }

    InetSocketAddress address() {
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    /** The next datagram received, waiting up to 5 s; {@code null} if none came. */
    byte[] next() throws InterruptedException {
        return received.poll(5, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        socket.close();
        thread.join(2000);
    }
}
