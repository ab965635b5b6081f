package io.headgate.client;

import io.headgate.api.v1.DiscoveryGrpc;
import io.headgate.api.v1.EvaluateRequest;
import io.headgate.api.v1.EvaluateResponse;
import io.headgate.api.v1.ExampleSet;
import io.headgate.api.v1.GroupAccuracy;
import io.headgate.api.v1.Profile;
import io.headgate.api.v1.ScanEvent;
import io.headgate.api.v1.ScanRequest;
import io.headgate.api.v1.ScanResult;
import io.headgate.api.v1.Steering;
import io.headgate.api.v1.SuggestProfileRequest;
import io.headgate.client.ClientOptions.UsageException;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** {@code headgate discovery}: a head scan with its progress and table, a profile suggested from a scan (admin), an evaluation. */
final class DiscoveryCommands {

    static final String USAGE = """
            usage: headgate discovery scan --model M (--builtin NAME | --examples FILE) [--limit N] [--profile REF]
                                           [--sound-threshold T] [--top N] [--json]
                   headgate discovery suggest --model M --scan-id ID --name NAME [--boost B] [--damp D] [--top N]
                                              [--expected-revision R]
                   headgate discovery evaluate --model M [--profile REF] [--probe-set NAME] [--per-group N] [--json]

            scan       finds the heads that matter for a labelled task: progress on stderr, then one row per head
                       (the --top N by mean attribution; default all) and the scan's id. --builtin names a built-in
                       set ("brackets", "addition" for parens-lm); --examples FILE holds {"examples": [{"prompt", "answer"}]}.
            suggest    writes a profile boosting the scan's sound heads (admin: sends HEADGATE_ADMIN_TOKEN)
            evaluate   accuracy of a profile (default identity) on the model's built-in probe sets
              --target HOST:PORT   the gateway                                       default localhost:8080""";

    private static final Set<String> OPTIONS = Set.of("--target", "--model", "--builtin", "--examples", "--limit", "--profile", "--sound-threshold",
            "--top", "--scan-id", "--name", "--boost", "--damp", "--expected-revision", "--probe-set", "--per-group");
    private static final Set<String> FLAGS = Set.of("--json");

    private DiscoveryCommands() {
    }

    static int run(List<String> args, PrintStream out, PrintStream err, String token) throws UsageException, IOException {
        if (args.isEmpty()) throw new UsageException("an action is required: scan, suggest or evaluate");
        if (args.getFirst().equals("--help") || args.getFirst().equals("-h")) throw UsageException.helpRequested();
        String action = args.getFirst();
        CommandLine c = CommandLine.parse(args.subList(1, args.size()), OPTIONS, FLAGS);
        if (!c.positional().isEmpty()) throw new UsageException("unexpected argument '" + c.positional().getFirst() + "'");
        try (Gateway g = new Gateway(AdminCommands.target(c), token)) {
            switch (action) {
                case "scan" -> scan(c, DiscoveryGrpc.newBlockingStub(g.channel()), out, err);
                case "suggest" -> {
                    Profile p = DiscoveryGrpc.newBlockingStub(g.admin()).suggestProfile(SuggestProfileRequest.newBuilder()
                            .setModel(c.required("--model")).setScanId(c.required("--scan-id")).setName(c.required("--name"))
                            .setBoost(orZero(c.number("--boost", 0, Float.MAX_VALUE))).setDamp(orZero(c.number("--damp", 0, 1)))
                            .setTop(c.integer("--top", 0, 0, Integer.MAX_VALUE))
                            .setExpectedRevision(c.unsigned("--expected-revision") == null ? 0 : c.unsigned("--expected-revision")).build());
                    out.println(AdminCommands.json(p));
                }
                case "evaluate" -> {
                    EvaluateRequest.Builder r = EvaluateRequest.newBuilder().setModel(c.required("--model"))
                            .setProbeSet(c.option("--probe-set", "")).setPerGroup(c.integer("--per-group", 0, 0, Integer.MAX_VALUE));
                    if (c.has("--profile")) r.setSteering(Steering.newBuilder().setProfile(c.required("--profile")));
                    EvaluateResponse response = DiscoveryGrpc.newBlockingStub(g.channel()).evaluate(r.build());
                    if (c.flag("--json")) {
                        out.println(AdminCommands.json(response));
                    } else {
                        out.printf("%-10s %-12s %9s %9s%n", "TASK", "GROUP", "CORRECT", "ACCURACY");
                        for (GroupAccuracy a : response.getGroupsList()) {
                            out.printf(Locale.ROOT, "%-10s %-12s %4d/%-4d %9.3f%n", a.getTask(), a.getGroup(), a.getCorrect(), a.getExamples(), a.getAccuracy());
                        }
                    }
                }
                default -> throw new UsageException("discovery: unknown action '" + action + "'; scan, suggest or evaluate");
            }
        }
        return HeadgateClient.EXIT_FINISHED;
    }

    private static void scan(CommandLine c, DiscoveryGrpc.DiscoveryBlockingStub discovery, PrintStream out, PrintStream err)
            throws UsageException, IOException {
        ScanRequest.Builder r = ScanRequest.newBuilder().setModel(c.required("--model")).setLimit(c.integer("--limit", 0, 0, Integer.MAX_VALUE))
                .setSoundThreshold(orZero(c.number("--sound-threshold", 0, 1)));
        if (c.has("--builtin") == c.has("--examples")) throw new UsageException("give --builtin NAME or --examples FILE");
        if (c.has("--builtin")) r.setBuiltin(c.required("--builtin"));
        else r.setInline(AdminCommands.<ExampleSet>read(c.required("--examples"), ExampleSet.newBuilder(), System.in));
        if (c.has("--profile")) r.setSteering(Steering.newBuilder().setProfile(c.required("--profile")));
        int top = c.integer("--top", 0, 0, Integer.MAX_VALUE);

        ScanResult result = null;
        for (Iterator<ScanEvent> it = discovery.scan(r.build()); it.hasNext(); ) {
            ScanEvent e = it.next();
            if (e.hasProgress()) err.printf("%s %d/%d%n", e.getProgress().getPhase(), e.getProgress().getDone(), e.getProgress().getTotal());
            if (e.hasResult()) result = e.getResult();
        }
        if (result == null) throw new IOException("the scan ended without a result");
        if (c.flag("--json")) {
            out.println(AdminCommands.json(result));
            return;
        }
        printHeads(result, top, out);
        out.printf(Locale.ROOT, "scan %s: %d examples, baseline accuracy %.3f; %s%n", result.getScanId(), result.getExamples(),
                result.getBaselineAccuracy(), result.getThresholds());
    }

    /** One row per head, by mean attribution (highest first). */
    static void printHeads(ScanResult r, int top, PrintStream out) {
        List<Integer> heads = new ArrayList<>();
        for (int i = 0; i < r.getLayers() * r.getHeads(); i++) heads.add(i);
        heads.sort(Comparator.comparingDouble((Integer i) -> -r.getAttributionMean(i)));
        if (top > 0 && top < heads.size()) heads = heads.subList(0, top);
        out.printf("%-6s %-5s %12s %9s %12s %12s  %s%n", "LAYER", "HEAD", "ATTRIBUTION", "POSITIVE", "ABLATE dLP", "ABLATE dACC", "CLASS");
        for (int i : heads) {
            out.printf(Locale.ROOT, "%-6d %-5d %12.4f %9.3f %12.4f %12.4f  %s%n", i / r.getHeads(), i % r.getHeads(), r.getAttributionMean(i),
                    r.getAttributionPositive(i), r.getAblationDeltaLogprob(i), r.getAblationDeltaAccuracy(i), r.getClasses(i).name().toLowerCase());
        }
    }

    private static float orZero(Float f) {
        return f == null ? 0 : f;
    }
}
