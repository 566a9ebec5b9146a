package dev.lbkit.etcd;

/** etcd did not take a registration's request in time, or refused it. The message names the key and the step. */
public final class EtcdUnavailableException extends RuntimeException {

    /** @param message names the key and the step that failed */
    public EtcdUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
