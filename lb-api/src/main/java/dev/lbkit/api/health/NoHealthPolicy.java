package dev.lbkit.api.health;

/** The policy that never changes availability. */
final class NoHealthPolicy implements HealthPolicy {
    static final NoHealthPolicy INSTANCE = new NoHealthPolicy();

    private NoHealthPolicy() {}

    @Override
    public String toString() {
        return "HealthPolicy.none()";
    }
}
