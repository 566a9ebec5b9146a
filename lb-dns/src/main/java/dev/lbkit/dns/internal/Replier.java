package dev.lbkit.dns.internal;

import io.netty.buffer.ByteBuf;

/** Sends one DNS message back to the client a query came from (UDP datagram or length-prefixed TCP). */
@FunctionalInterface
public interface Replier {
    /** Takes ownership of {@code message}. May be called from any thread. */
    void reply(ByteBuf message);

    /**
     * Called when the answer to a query will come later, through exactly one {@link #reply} (a forwarded
     * query); on the thread that called {@link DnsEngine#handle}, before it returns.
     */
    default void deferred() {}
}
