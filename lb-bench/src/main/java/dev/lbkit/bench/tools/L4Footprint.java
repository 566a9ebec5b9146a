package dev.lbkit.bench.tools;

import dev.lbkit.l4.L4Balancer;
import dev.lbkit.l4.RealServer;
import dev.lbkit.l4.Timeouts;
import dev.lbkit.l4.VirtualService;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Heap and RSS of lb-l4 per idle forwarded connection pair: a balancer JVM of its own (one TCP virtual
 * service, one event loop, the transport asked for) in front of a real server, and N clients that each
 * send one byte, get it echoed through both connections of their pair, and then stay idle.
 *
 * <p>The clients run in this process, the real server and the balancer in child JVMs (the balancer with
 * {@code LBKIT_JAVA_OPTS}, default {@code -XX:+UseSerialGC -Xmn32m}, lb-bench/run's), so that what the
 * balancer's JVM holds is the balancer's alone. The child reports its heap after full collections
 * ({@link java.lang.management.MemoryMXBean}, {@code System.gc()} until the figure settles) and its
 * VmRSS, at 0 pairs (after a warm-up whose closed connections have expired), at the first step and at N.
 * Per pair is the difference over the pairs added, so class loading and fixed buffers do not count.
 *
 * <p>Usage: {@code L4Footprint PAIRS epoll|nio [STEP]}; loopback only (127.0.0.2 for the service,
 * 127.0.0.3 for the real server). Each pair takes two descriptors in the balancer, so its process
 * needs a limit above twice the pairs (lb-bench/l4-footprint raises {@code ulimit -n} where it may). Prints a table and one {@code RESULT} line.
 */
public final class L4Footprint {
    private static final String DEFAULT_JAVA_OPTS = "-XX:+UseSerialGC -Xmn32m";
    private static final int BATCH = 256;
    private static final int WARM_UP = 256;

    private L4Footprint() {
    }

    /**
     * Entry point.
     *
     * @param args {@code PAIRS epoll|nio [STEP]}, or {@code serve REAL epoll|nio} in the child
     * @throws Exception on any failure: the measurement is void then
     */
    public static void main(String[] args) throws Exception {
        if (args.length == 3 && args[0].equals("serve")) {
            serve(LbkitContender.address(args[1]), args[2].equals("epoll"));
            return;
        }
        if (args.length == 1 && args[0].equals("real")) {
            try (EchoLoop real = new EchoLoop(new InetSocketAddress("127.0.0.3", 0))) {
                System.out.println("REAL " + real.port());
                System.out.flush();
                while (System.in.read() >= 0) {
                    // Serves until the parent closes stdin.
                }
            }
            return;
        }
        if (args.length < 2 || args.length > 3 || !args[1].matches("epoll|nio")) {
            System.err.println("usage: L4Footprint PAIRS epoll|nio [STEP]");
            System.exit(2);
        }
        int pairs = Integer.parseInt(args[0]);
        int step = args.length == 3 ? Integer.parseInt(args[2]) : Math.max(1, pairs / 10);
        measure(pairs, step, args[1]);
    }

    /**
     * What one run found.
     *
     * @param pairs       pairs open at the last reading
     * @param heapPerPair heap bytes per pair between the first step and the last reading
     * @param rssPerPair  RSS bytes per pair over the same pairs
     */
    record Result(int pairs, double heapPerPair, double rssPerPair) {
    }

    /** The child: the balancer; answers "measure" on stdin with its heap and RSS. */
    private static void serve(InetSocketAddress real, boolean epoll) throws IOException {
        // tcpfin 1 s: the warm-up's closed connections leave the table before the baseline is read.
        Timeouts timeouts = new Timeouts(Duration.ofSeconds(900), Duration.ofSeconds(1), Duration.ofSeconds(300));
        L4Balancer.Builder builder = L4Balancer.builder().ioThreads(1).nativeTransport(epoll).timeouts(timeouts);
        // -Dlbkit.zeroCopy=true|false (in LBKIT_JAVA_OPTS) chooses splicing or copying on epoll.
        String zeroCopy = System.getProperty("lbkit.zeroCopy");
        if (zeroCopy != null) {
            builder.zeroCopy(Boolean.parseBoolean(zeroCopy));
        }
        try (L4Balancer lb = builder.build()) {
            InetSocketAddress bound = lb.addService(VirtualService.tcp(new InetSocketAddress("127.0.0.2", 0))
                    .scheduler("rr").realServer(RealServer.of(real)).build()).localAddress();
            PrintWriter out = new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.US_ASCII), true);
            out.println("LISTEN " + bound.getHostString() + ":" + bound.getPort() + " " + lb.transport() + " "
                    + ProcessHandle.current().pid());
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
            for (String line; (line = in.readLine()) != null; ) {
                if (line.equals("measure")) {
                    out.println("HEAP " + heapAfterGc() + " RSS " + rssKib());
                }
            }
        }
    }

    /** Heap in use after full collections, repeated until two readings agree within 1%. */
    private static long heapAfterGc() {
        long last = Long.MAX_VALUE;
        for (int i = 0; i < 10; i++) {
            System.gc();
            sleep(100);
            long used = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            if (Math.abs(used - last) * 100 <= last) {
                return used;
            }
            last = used;
        }
        return last;
    }

    private static long rssKib() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    /** One reading of the child. */
    private record Reading(int pairs, long heap, long rssKib) {
    }

    private static Process child(List<String> jvmOptions, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), L4Footprint.class.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    private static BufferedReader reader(Process p) {
        return new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.US_ASCII));
    }

    private static void stop(Process p) throws InterruptedException, IOException {
        p.getOutputStream().close();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
    }

    static Result measure(int pairs, int step, String transport) throws Exception {
        // Three processes, since each pair holds two descriptors in the balancer and one each in the client
        // and the real server: with a per-process limit of 20,000 nothing else would reach 10,000 pairs.
        Process real = child(List.of("-Xss256k"), "real");
        List<Socket> open = new ArrayList<>(pairs);
        Result result;
        try {
            int realPort = Integer.parseInt(reader(real).readLine().split(" ")[1]);
            String opts = System.getenv().getOrDefault("LBKIT_JAVA_OPTS", DEFAULT_JAVA_OPTS).trim();
            Process lb = child(opts.isEmpty() ? List.of() : Arrays.asList(opts.split("\\s+")), "serve",
                    "127.0.0.3:" + realPort, transport);
            try {
                BufferedReader from = reader(lb);
                PrintWriter to = new PrintWriter(new OutputStreamWriter(lb.getOutputStream(),
                        StandardCharsets.US_ASCII), true);
                String[] listen = from.readLine().split(" ");
                InetSocketAddress service = LbkitContender.address(listen[1]);
                System.out.printf(Locale.ROOT, "balancer pid %s, transport %s, opts '%s', service %s%n", listen[3],
                        listen[2], opts, service);
                List<Socket> warm = new ArrayList<>();
                open(service, WARM_UP, warm);
                for (Socket s : warm) {
                    s.close();
                }
                sleep(2500);
                List<Reading> readings = new ArrayList<>();
                readings.add(read(0, from, to));
                while (open.size() < pairs) {
                    open(service, Math.min(step, pairs - open.size()), open);
                    if (open.size() == step || open.size() == pairs) {
                        readings.add(read(open.size(), from, to));
                    }
                }
                result = report(transport, readings);
                if (System.getenv("L4FOOTPRINT_HISTO") != null) {
                    histogram(listen[3], Integer.parseInt(System.getenv("L4FOOTPRINT_HISTO")));
                }
            } finally {
                for (Socket s : open) {
                    s.close();
                }
                stop(lb);
            }
        } finally {
            stop(real);
        }
        return result;
    }

    /** The balancer's largest classes by bytes ({@code jcmd PID GC.class_histogram}), to see what a pair holds. */
    private static void histogram(String pid, int lines) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("jcmd", pid, "GC.class_histogram").redirectErrorStream(true).start();
        try (BufferedReader r = reader(p)) {
            r.lines().limit(lines + 3L).forEach(System.out::println);
        }
        p.waitFor(30, TimeUnit.SECONDS);
    }

    private static Reading read(int pairs, BufferedReader from, PrintWriter to) throws IOException {
        to.println("measure");
        String[] r = from.readLine().split(" ");
        Reading reading = new Reading(pairs, Long.parseLong(r[1]), Long.parseLong(r[3]));
        System.out.printf(Locale.ROOT, "%6d pairs: heap %,12d B  rss %,9d KiB%n", pairs, reading.heap(),
                reading.rssKib());
        return reading;
    }

    private static Result report(String transport, List<Reading> r) {
        Reading zero = r.get(0);
        Reading first = r.get(1);
        Reading last = r.get(r.size() - 1);
        double heapPerPair = (double) (last.heap() - first.heap()) / (last.pairs() - first.pairs());
        double rssPerPair = (double) (last.rssKib() - first.rssKib()) * 1024 / (last.pairs() - first.pairs());
        double heapFromZero = (double) (last.heap() - zero.heap()) / last.pairs();
        System.out.printf(Locale.ROOT,
                "RESULT transport=%s pairs=%d heap_per_pair=%.0f B (from %d to %d pairs; %.0f B from 0)"
                        + " rss_per_pair=%.0f B heap_at_n=%d rss_kib_at_n=%d%n",
                transport, last.pairs(), heapPerPair, first.pairs(), last.pairs(), heapFromZero, rssPerPair,
                last.heap(), last.rssKib());
        return new Result(last.pairs(), heapPerPair, rssPerPair);
    }

    /** Opens {@code n} more pairs: each client sends one byte and reads it back through the balancer. */
    private static void open(InetSocketAddress service, int n, List<Socket> into) throws IOException {
        for (int done = 0; done < n; ) {
            int batch = Math.min(BATCH, n - done);
            List<Socket> sockets = new ArrayList<>(batch);
            for (int i = 0; i < batch; i++) {
                Socket s = new Socket();
                sockets.add(s);
                s.connect(service, 5000);
                s.setSoTimeout(5000);
                s.getOutputStream().write('x');
            }
            for (Socket s : sockets) {
                if (s.getInputStream().read() != 'x') {
                    throw new IOException("pair " + (into.size() + 1) + " did not echo");
                }
                into.add(s);
            }
            done += batch;
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The real server: one selector thread echoing whatever arrives, holding every connection open. */
    private static final class EchoLoop implements AutoCloseable {
        private final Selector selector;
        private final ServerSocketChannel server;
        private final Thread thread;

        EchoLoop(InetSocketAddress bind) throws IOException {
            selector = Selector.open();
            server = ServerSocketChannel.open();
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            server.bind(bind, 4096);
            server.configureBlocking(false);
            server.register(selector, SelectionKey.OP_ACCEPT);
            thread = new Thread(this::loop, "l4-footprint-real-server");
            thread.setDaemon(true);
            thread.start();
        }

        int port() {
            return server.socket().getLocalPort();
        }

        private void loop() {
            ByteBuffer buf = ByteBuffer.allocateDirect(4096);
            try {
                while (selector.isOpen()) {
                    selector.select();
                    for (SelectionKey k : selector.selectedKeys()) {
                        if (!k.isValid()) {
                            continue;
                        }
                        if (k.isAcceptable()) {
                            for (SocketChannel c; (c = server.accept()) != null; ) {
                                c.configureBlocking(false);
                                c.register(selector, SelectionKey.OP_READ);
                            }
                        } else if (k.isReadable()) {
                            SocketChannel c = (SocketChannel) k.channel();
                            buf.clear();
                            if (c.read(buf) < 0) {
                                k.cancel();
                                c.close();
                            } else {
                                buf.flip();
                                c.write(buf);
                            }
                        }
                    }
                    selector.selectedKeys().clear();
                }
            } catch (IOException | java.nio.channels.ClosedSelectorException e) {
                // Closed: the measurement is over.
            }
        }

        @Override
        public void close() throws IOException {
            selector.close();
            server.close();
            try {
                thread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
