package io.headgate.client;

import io.grpc.Status;
import io.headgate.api.v1.Finished;
import io.headgate.api.v1.SteeringApplied;
import io.headgate.api.v1.SteeringRejected;
import io.headgate.api.v1.SteeringTag;
import io.headgate.api.v1.Started;
import io.headgate.api.v1.Token;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Writes a generation for a person: the tokens' text on stdout (so it can be piped), everything
 * about the stream on stderr. Synchronized because the gRPC callback thread and the interactive
 * stdin thread both print.
 */
final class EventPrinter {

    private final boolean verbose;
    private final PrintStream out;
    private final PrintStream err;

    private String lastTag;            // the steering of the previous token, to mark changes
    private boolean stdoutUnterminated; // stdout holds text with no newline yet: end it before exiting
    private boolean lineShared;        // a terminal line holds stdout text that a stderr message would run into

    EventPrinter(boolean verbose, PrintStream out, PrintStream err) {
        this.verbose = verbose;
        this.out = out;
        this.err = err;
    }

    /** @param credit the credit window as sent, with why it differs from --credit if it does */
    synchronized void started(Started s, String credit) {
        boolean inExperiment = !s.getArm().isEmpty() && !s.getArm().equals("none");
        if (!verbose) {
            // the first token's marker names the steering; the arm it came from is said here
            if (inExperiment) notice("experiment arm: " + s.getArm());
            return;
        }
        notice("started: stream " + s.getStreamId() + (s.getModel().isEmpty() ? "" : ", model " + s.getModel())
                + (inExperiment ? ", arm " + s.getArm() : "")
                + ", steering " + tag(s.getSteering()) + (s.getFollowing() ? " (following new revisions)" : "")
                + ", prompt " + s.getPromptTokens() + " tokens, credit window " + credit);
    }

    synchronized void token(Token t) {
        String tag = tag(t.getSteering());
        if (verbose) {
            out.printf(Locale.ROOT, "%d\t%d\t%s\t%s\t%.4f%n", t.getIndex(), t.getId(), quote(t.getText()), tag, t.getLogprob());
        } else {
            // the first token's marker names the steering the stream started under
            if (!tag.equals(lastTag)) text("⟦" + tag + "⟧");
            text(t.getText());
        }
        lastTag = tag;
        out.flush();
    }

    synchronized void applied(SteeringApplied a) {
        StringBuilder s = new StringBuilder("→ now ").append(tag(a.getSteering())).append(" from token ").append(a.getFromIndex());
        if (a.getReprefilled()) s.append(", prompt re-prefilled");
        if (a.getReason().equals("follow")) s.append(" (a new revision in the registry)");
        else if (verbose) s.append(" (").append(a.getReason()).append(')');
        notice(s.toString());
    }

    synchronized void rejected(SteeringRejected r) {
        notice("✗ steering rejected: " + r.getField() + ": " + r.getReason());
    }

    /** The end of the output: any text the server held back, then a newline. */
    synchronized void finishedText(Finished f) {
        if (!f.getText().isEmpty()) {
            if (verbose) out.println("held back at the end: " + quote(f.getText()));
            else text(f.getText());
        }
        endStdoutLine();
    }

    synchronized void summary(Finished f) {
        String summary = String.format(Locale.ROOT, "finished: %s, prompt %s, completion %s, first token after %.3f s, total %.3f s",
                f.getReason(), tokens(f.getPromptTokens()), tokens(f.getCompletionTokens()), f.getTimeToFirstTokenSeconds(), f.getTotalSeconds());
        if (verbose) summary += String.format(Locale.ROOT, " (queued %.3f s)", f.getQueueSeconds());
        notice(summary);
    }

    synchronized void error(Status status) {
        endStdoutLine();
        String description = status.getDescription();
        err.println("error: " + status.getCode() + (description == null ? "" : ": " + description));
        // "UNAVAILABLE: io exception" says little by itself; the cause names the refused address
        if (status.getCause() != null) err.println("  caused by: " + status.getCause());
        err.flush();
    }

    /** One line on stderr; starts a fresh line first if the terminal's line holds token text. */
    synchronized void notice(String line) {
        out.flush();
        if (lineShared) err.println();
        lineShared = false;
        err.println(line);
        err.flush();
    }

    /** Ends the token text with a newline so the shell prompt (or the summary) starts on its own line. */
    synchronized void endStdoutLine() {
        if (stdoutUnterminated) out.println();
        out.flush();
        stdoutUnterminated = lineShared = false;
    }

    private void text(String s) {
        if (s.isEmpty()) return;
        out.print(s);
        stdoutUnterminated = lineShared = !s.endsWith("\n");
    }

    private static String tokens(int n) {
        return n == 1 ? "1 token" : n + " tokens";
    }

    static String tag(SteeringTag t) {
        return t.getProfile() + "@" + t.getRevision();
    }

    /** The token's text quoted, with control characters escaped so one token stays one line. */
    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (Character.isISOControl(c)) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        return b.append('"').toString();
    }
}
