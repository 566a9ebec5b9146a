package dev.lbkit.api.scheduler.internal;

import dev.lbkit.api.scheduler.SchedulerOptions;
import dev.lbkit.api.scheduler.SchedulerProvider;

/** The common part of lbkit's built-in providers: a fixed name, a description, known option names. */
abstract class BuiltinProvider implements SchedulerProvider {
    private final String name;
    private final String description;
    private final String[] options;

    BuiltinProvider(String name, String description, String... options) {
        this.name = name;
        this.description = description;
        this.options = options;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final String description() {
        return description;
    }

    /** Rejects options this scheduler does not know, naming them and the known ones. */
    final SchedulerOptions check(SchedulerOptions given) {
        given.requireOnly(name, options);
        return given;
    }
}
