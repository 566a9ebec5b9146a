package dev.lbkit.api.resolve;

/** Told each new {@link ResolutionResult} of a {@link Resolver}. Must not block. */
@FunctionalInterface
public interface ResolverListener {
    void onResult(ResolutionResult result);
}
