package dev.lbkit.l7.internal;

/**
 * Where a request's key ({@link dev.lbkit.l7.HashKey}) lies: a range of a text the request holds (its
 * URI, a header's or a Cookie field's value), filled in place by {@link KeyReader#read}. Mutable, one per
 * client connection, used on its event loop only.
 */
final class KeySpan {
    CharSequence text;
    int from;
    int to;

    /** Sets the range; true when it is not empty (an empty key is no key). */
    boolean set(CharSequence text, int from, int to) {
        this.text = text;
        this.from = from;
        this.to = to;
        return to > from;
    }

    int length() {
        return to - from;
    }

    char charAt(int i) {
        return text.charAt(from + i);
    }

    /** The key as a String of its own (only for a new entry of a table). */
    String copy() {
        return text.subSequence(from, to).toString();
    }
}
