package dev.lbkit.examples.support;

/** A command could not start (port in use, unreachable forwarder); the message is the one-line reason. */
public final class StartException extends RuntimeException {
    public StartException(String message, Throwable cause) {
        super(message, cause);
    }

    public StartException(String message) {
        super(message);
    }
}
