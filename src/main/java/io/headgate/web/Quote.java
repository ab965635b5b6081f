package io.headgate.web;

/** A client's string quoted in an error message, its head only when it is long. */
final class Quote {
    private Quote() {
    }

    static String of(String s) {
        return s.length() <= 64 ? "'" + s + "'" : "'" + s.substring(0, 64) + "…' (" + s.length() + " characters)";
    }
}
