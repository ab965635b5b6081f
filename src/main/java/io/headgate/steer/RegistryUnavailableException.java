package io.headgate.steer;

/**
 * The registry's store cannot be reached (etcd down or partitioned away): a write was not made, or
 * may not have been. Reads go on from memory; the API maps this to gRPC UNAVAILABLE.
 */
public class RegistryUnavailableException extends RuntimeException {

    public RegistryUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
