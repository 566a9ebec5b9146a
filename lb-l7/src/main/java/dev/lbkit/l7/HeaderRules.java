package dev.lbkit.l7;

import dev.lbkit.api.internal.Checks;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Header edits applied to requests on their way to the upstream and to responses on their way to the
 * client (nginx {@code proxy_set_header}, {@code add_header}, {@code proxy_hide_header}), in the order
 * they were added. Applied after hop-by-hop headers were removed and the forwarding headers were set,
 * so a rule can override those; a request rule on {@code Host} also wins over the route's
 * {@link HostHeader} policy ({@code proxy_set_header Host …}).
 *
 * <p>Names must be tokens (RFC 9110 §5.6.2) and values free of control characters other than tab, or the
 * builder throws {@link IllegalArgumentException} naming the header; leading and trailing spaces and tabs
 * of a value are stripped, as a recipient would strip them.
 *
 * <p>Immutable and thread-safe. Default: {@link #NONE}.
 */
public final class HeaderRules {
    /** No edits. */
    public static final HeaderRules NONE = builder().build();

    enum Op { SET, ADD, REMOVE }

    record Rule(Op op, AsciiString name, String value) {}

    private final List<Rule> request;
    private final List<Rule> response;

    private HeaderRules(Builder b) {
        this.request = List.copyOf(b.request);
        this.response = List.copyOf(b.response);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Whether there are no rules at all. */
    public boolean isEmpty() {
        return request.isEmpty() && response.isEmpty();
    }

    /** Whether a request rule sets, adds or removes the header {@code name} (case-insensitive). */
    public boolean editsRequestHeader(CharSequence name) {
        for (Rule r : request) {
            if (r.name.contentEqualsIgnoreCase(name)) {
                return true;
            }
        }
        return false;
    }

    /** Applies the request rules to {@code headers}. For lb-l7's handlers; safe to call concurrently. */
    public void applyToRequest(HttpHeaders headers) {
        apply(request, headers);
    }

    /** Applies the response rules to {@code headers}. */
    public void applyToResponse(HttpHeaders headers) {
        apply(response, headers);
    }

    private static void apply(List<Rule> rules, HttpHeaders h) {
        for (int i = 0, n = rules.size(); i < n; i++) {
            Rule r = rules.get(i);
            switch (r.op) {
                case SET -> h.set(r.name, r.value);
                case ADD -> h.add(r.name, r.value);
                default -> h.remove(r.name);
            }
        }
    }

    @Override
    public String toString() {
        return "HeaderRules{request=" + request + ", response=" + response + "}";
    }

    /** Builds {@link HeaderRules}. Not thread-safe. */
    public static final class Builder {
        private static final io.netty.handler.codec.DefaultHeaders.NameValidator<CharSequence> NAMES =
                io.netty.handler.codec.http.DefaultHttpHeadersFactory.headersFactory().getNameValidator();
        private final List<Rule> request = new ArrayList<>();
        private final List<Rule> response = new ArrayList<>();

        private Builder() {}

        /**
         * Replaces every value of the request header {@code name} ({@code proxy_set_header}); as nginx, an
         * empty value (after leading and trailing white space is stripped) removes the header instead.
         */
        public Builder setRequestHeader(String name, String value) {
            Rule r = rule(Op.SET, name, value);
            request.add(r.value().isEmpty() ? new Rule(Op.REMOVE, r.name(), null) : r);
            return this;
        }

        /** Adds a value to the request header {@code name}. */
        public Builder addRequestHeader(String name, String value) {
            request.add(rule(Op.ADD, name, value));
            return this;
        }

        /** Removes the request header {@code name} ({@code proxy_set_header name ""}). */
        public Builder removeRequestHeader(String name) {
            request.add(rule(Op.REMOVE, name, null));
            return this;
        }

        /** Replaces every value of the response header {@code name}. */
        public Builder setResponseHeader(String name, String value) {
            response.add(rule(Op.SET, name, value));
            return this;
        }

        /** Adds a value to the response header {@code name} ({@code add_header}). */
        public Builder addResponseHeader(String name, String value) {
            response.add(rule(Op.ADD, name, value));
            return this;
        }

        /** Removes the response header {@code name} ({@code proxy_hide_header}). */
        public Builder removeResponseHeader(String name) {
            response.add(rule(Op.REMOVE, name, null));
            return this;
        }

        private static Rule rule(Op op, String name, String value) {
            Checks.notBlank(name, "name");
            try {
                // Netty's own check, here rather than per message: its header map would refuse it on every one.
                NAMES.validateName(name);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("header name '" + name + "' is not a token (RFC 9110 §5.6.2): "
                        + e.getMessage(), e);
            }
            if (op == Op.REMOVE) {
                return new Rule(op, AsciiString.cached(name), null);
            }
            Objects.requireNonNull(value, "value");
            checkFieldContent(value, "header value for '" + name + "'");
            // A field value has no leading or trailing white space (RFC 9110 §5.5): a recipient would strip it.
            int start = 0;
            int end = value.length();
            while (start < end && (value.charAt(start) == ' ' || value.charAt(start) == '\t')) {
                start++;
            }
            while (end > start && (value.charAt(end - 1) == ' ' || value.charAt(end - 1) == '\t')) {
                end--;
            }
            return new Rule(op, AsciiString.cached(name), value.substring(start, end));
        }

        /**
         * Throws {@link IllegalArgumentException} naming {@code what} if {@code value} has a character a field
         * value cannot carry: a control character other than tab, DEL, or one above U+00FF.
         */
        static void checkFieldContent(String value, String what) {
            for (int i = 0; i < value.length(); i++) {
                char c = value.charAt(i);
                if (c < ' ' && c != '\t' || c == 127 || c > 255) {
                    throw new IllegalArgumentException(what + " has a control character");
                }
            }
        }

        /** Adds every rule of {@code rules} after those already added. */
        public Builder addAll(HeaderRules rules) {
            request.addAll(rules.request);
            response.addAll(rules.response);
            return this;
        }

        public HeaderRules build() {
            return new HeaderRules(this);
        }
    }
}
