package io.headgate.client;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import io.headgate.api.v1.ArmComparison;
import io.headgate.api.v1.CompareExperimentRequest;
import io.headgate.api.v1.CompareExperimentResponse;
import io.headgate.api.v1.DeleteExperimentRequest;
import io.headgate.api.v1.DeleteProfileRequest;
import io.headgate.api.v1.DescribeModelRequest;
import io.headgate.api.v1.Experiment;
import io.headgate.api.v1.ExperimentSpec;
import io.headgate.api.v1.ExperimentsGrpc;
import io.headgate.api.v1.GetExperimentRequest;
import io.headgate.api.v1.GetProfileRequest;
import io.headgate.api.v1.ListExperimentsRequest;
import io.headgate.api.v1.ListModelsRequest;
import io.headgate.api.v1.ListProfilesRequest;
import io.headgate.api.v1.ModelInfo;
import io.headgate.api.v1.ModelsGrpc;
import io.headgate.api.v1.Profile;
import io.headgate.api.v1.ProfileSpec;
import io.headgate.api.v1.ProfilesGrpc;
import io.headgate.api.v1.PromoteArmRequest;
import io.headgate.api.v1.PutExperimentRequest;
import io.headgate.api.v1.PutProfileRequest;
import io.headgate.client.ClientOptions.UsageException;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code headgate models}, {@code headgate profiles} and {@code headgate experiments}: one unary call
 * each. Profiles and experiments are written from JSON files in the API's JSON form (the form of
 * {@code profiles/<model>/<name>.json}); results are printed as tables, or as that JSON.
 */
final class AdminCommands {

    static final String USAGE = """
            usage: headgate models list | describe NAME
                   headgate profiles list [--model M] [--json]
                   headgate profiles get --model M NAME[@REV]
                   headgate profiles put --model M NAME FILE [--expected-revision R]
                   headgate profiles delete --model M NAME [--expected-revision R]
                   headgate experiments list [--model M] [--json]
                   headgate experiments get --model M NAME[@REV]
                   headgate experiments put --model M NAME FILE [--expected-revision R]
                   headgate experiments delete --model M NAME [--expected-revision R]
                   headgate experiments promote --model M NAME ARM [--expected-revision R]
                   headgate experiments compare --model M NAME [--per-group N] [--json]

            Profiles and experiments are admin calls: they send the token in HEADGATE_ADMIN_TOKEN.
            FILE ('-' for stdin) holds a profile spec, e.g. {"gains": [{"layer": 3, "head": -1, "gain": 0}]},
            or an experiment spec, {"arms": [{"name": "a", "profile": "identity", "weight": 1}, ...]}.
            --expected-revision is the revision being replaced (0, the default, creates); a stale one is refused.
              --target HOST:PORT   the gateway                                       default localhost:8080""";

    private static final Set<String> OPTIONS = Set.of("--target", "--model", "--expected-revision", "--per-group");
    private static final Set<String> FLAGS = Set.of("--json");
    // every field, a gain of 0 included: what was written, not what differs from protobuf's defaults
    static final JsonFormat.Printer JSON = JsonFormat.printer().alwaysPrintFieldsWithNoPresence();

    private AdminCommands() {
    }

    static int models(List<String> args, PrintStream out) throws UsageException {
        String action = action(args);
        CommandLine c = CommandLine.parse(args.subList(1, args.size()), OPTIONS, FLAGS);
        try (Gateway g = new Gateway(target(c), null)) {
            var models = ModelsGrpc.newBlockingStub(g.channel());
            switch (action) {
                case "list" -> {
                    List<ModelInfo> all = models.list(ListModelsRequest.getDefaultInstance()).getModelsList();
                    out.printf("%-16s %-10s %-8s %-7s %-6s %s%n", "MODEL", "KIND", "STATE", "LAYERS", "HEADS", "EXECUTION");
                    for (ModelInfo m : all) {
                        out.printf("%-16s %-10s %-8s %-7d %-6d %s%s%n", m.getName(), m.getKind(), m.getState(), m.getLayers(), m.getHeads(),
                                m.getExecution(), m.getError().isEmpty() ? "" : "  " + m.getError());
                    }
                }
                case "describe" -> out.println(json(models.describe(DescribeModelRequest.newBuilder().setModel(c.positional("NAME").getFirst()).build())));
                default -> throw new UsageException("models: unknown action '" + action + "'; list or describe");
            }
        }
        return HeadgateClient.EXIT_FINISHED;
    }

    static int profiles(List<String> args, PrintStream out, String token, InputStream in) throws UsageException, IOException {
        String action = action(args);
        CommandLine c = CommandLine.parse(args.subList(1, args.size()), OPTIONS, FLAGS);
        try (Gateway g = new Gateway(target(c), token)) {
            var profiles = ProfilesGrpc.newBlockingStub(g.admin());
            switch (action) {
                case "list" -> {
                    List<Profile> all = profiles.list(ListProfilesRequest.newBuilder().setModel(c.option("--model", "")).build()).getProfilesList();
                    if (c.flag("--json")) {
                        for (Profile p : all) out.println(json(p));
                    } else {
                        out.printf("%-16s %-20s %-9s %-25s %s%n", "MODEL", "NAME", "REVISION", "CREATED", "DESCRIPTION");
                        for (Profile p : all) {
                            out.printf("%-16s %-20s %-9d %-25s %s%n", p.getModel(), p.getName(), p.getRevision(), p.getCreatedAt(), shorten(p.getSpec().getDescription()));
                        }
                    }
                }
                case "get" -> {
                    Reference r = Reference.parse(c.positional("NAME[@REV]").getFirst());
                    out.println(json(profiles.get(GetProfileRequest.newBuilder().setModel(c.required("--model")).setName(r.name()).setRevision(r.revision()).build())));
                }
                case "put" -> {
                    List<String> p = c.positional("NAME", "FILE");
                    ProfileSpec spec = read(p.get(1), ProfileSpec.newBuilder(), in);
                    Profile written = profiles.put(PutProfileRequest.newBuilder().setModel(c.required("--model")).setName(p.getFirst()).setSpec(spec)
                            .setExpectedRevision(expectedRevision(c)).build());
                    out.println(written.getModel() + " " + written.getName() + "@" + written.getRevision());
                }
                case "delete" -> {
                    String name = c.positional("NAME").getFirst();
                    long revision = profiles.delete(DeleteProfileRequest.newBuilder().setModel(c.required("--model")).setName(name)
                            .setExpectedRevision(expectedRevision(c)).build()).getRevision();
                    out.println("deleted " + name + " (revision " + revision + " records the deletion)");
                }
                default -> throw new UsageException("profiles: unknown action '" + action + "'; list, get, put or delete");
            }
        }
        return HeadgateClient.EXIT_FINISHED;
    }

    static int experiments(List<String> args, PrintStream out, String token, InputStream in) throws UsageException, IOException {
        String action = action(args);
        CommandLine c = CommandLine.parse(args.subList(1, args.size()), OPTIONS, FLAGS);
        try (Gateway g = new Gateway(target(c), token)) {
            var experiments = ExperimentsGrpc.newBlockingStub(g.admin());
            switch (action) {
                case "list" -> {
                    List<Experiment> all = experiments.list(ListExperimentsRequest.newBuilder().setModel(c.option("--model", "")).build()).getExperimentsList();
                    if (c.flag("--json")) {
                        for (Experiment e : all) out.println(json(e));
                    } else {
                        out.printf("%-16s %-20s %-9s %s%n", "MODEL", "NAME", "REVISION", "ARMS (name=profile:weight)");
                        for (Experiment e : all) {
                            StringBuilder arms = new StringBuilder();
                            e.getSpec().getArmsList().forEach(a -> arms.append(arms.isEmpty() ? "" : " ").append(a.getName()).append('=')
                                    .append(a.getProfile()).append(':').append(number(a.getWeight())));
                            out.printf("%-16s %-20s %-9d %s%n", e.getModel(), e.getName(), e.getRevision(), arms);
                        }
                    }
                }
                case "get" -> {
                    Reference r = Reference.parse(c.positional("NAME[@REV]").getFirst());
                    out.println(json(experiments.get(GetExperimentRequest.newBuilder().setModel(c.required("--model")).setName(r.name())
                            .setRevision(r.revision()).build())));
                }
                case "put" -> {
                    List<String> p = c.positional("NAME", "FILE");
                    ExperimentSpec spec = read(p.get(1), ExperimentSpec.newBuilder(), in);
                    Experiment written = experiments.put(PutExperimentRequest.newBuilder().setModel(c.required("--model")).setName(p.getFirst())
                            .setSpec(spec).setExpectedRevision(expectedRevision(c)).build());
                    out.println(written.getModel() + " " + written.getName() + "@" + written.getRevision());
                }
                case "delete" -> {
                    String name = c.positional("NAME").getFirst();
                    long revision = experiments.delete(DeleteExperimentRequest.newBuilder().setModel(c.required("--model")).setName(name)
                            .setExpectedRevision(expectedRevision(c)).build()).getRevision();
                    out.println("deleted " + name + " (revision " + revision + " records the deletion)");
                }
                case "promote" -> {
                    List<String> p = c.positional("NAME", "ARM");
                    Experiment written = experiments.promote(PromoteArmRequest.newBuilder().setModel(c.required("--model")).setName(p.getFirst())
                            .setArm(p.get(1)).setExpectedRevision(expectedRevision(c)).build());
                    out.println(written.getModel() + " " + written.getName() + "@" + written.getRevision() + ": only arm " + p.get(1));
                }
                case "compare" -> {
                    String name = c.positional("NAME").getFirst();
                    CompareExperimentResponse r = experiments.compare(CompareExperimentRequest.newBuilder().setModel(c.required("--model")).setName(name)
                            .setPerGroup(c.integer("--per-group", 0, 0, Integer.MAX_VALUE)).build());
                    if (c.flag("--json")) out.println(json(r));
                    else printComparison(r, out);
                }
                default -> throw new UsageException("experiments: unknown action '" + action + "'; list, get, put, delete, promote or compare");
            }
        }
        return HeadgateClient.EXIT_FINISHED;
    }

    private static void printComparison(CompareExperimentResponse r, PrintStream out) {
        out.printf("%-12s %-18s %9s %9s %12s %7s %7s %8s %9s%n", "ARM", "PROFILE", "OUTPUTS", "TTFT s", "CANARY", "b", "c", "z", "p");
        for (ArmComparison a : r.getArmsList()) {
            out.printf(Locale.ROOT, "%-12s %-18s %9.0f %9.4f %5d/%-6d %7d %7d %8.3f %9.4g%s%n", a.getArm(), a.getProfile(), a.getTokens(),
                    a.getMeanTimeToFirstTokenSeconds(), a.getCanaryCorrect(), a.getCanaryExamples(), a.getOnlyFirstCorrect(), a.getOnlyThisCorrect(),
                    a.getZ(), a.getPValue(), extras(a));
        }
        out.println("test: " + r.getTest() + " against the first arm");
    }

    /** What only some kinds report: KL of shadowed streams, sample quality, forecast errors. */
    private static String extras(ArmComparison a) {
        StringBuilder s = new StringBuilder();
        if (a.getKlSamples() > 0) s.append(String.format(Locale.ROOT, "  mean KL %.4g over %d tokens", a.getMeanKl(), a.getKlSamples()));
        if (a.getCanaryConfidence() > 0) {
            s.append(String.format(Locale.ROOT, "  confidence %.3f, Frechet distance %.3f", a.getCanaryConfidence(), a.getCanaryFrechetDistance()));
        }
        if (a.getRelativeMase() > 0) s.append(String.format(Locale.ROOT, "  relative MASE %.3f, WQL %.3f", a.getRelativeMase(), a.getRelativeWql()));
        return s.toString();
    }

    /** NAME or NAME@REV. */
    record Reference(String name, long revision) {
        static Reference parse(String s) throws UsageException {
            int at = s.lastIndexOf('@');
            if (at < 0) return new Reference(s, 0);
            try {
                return new Reference(s.substring(0, at), Long.parseUnsignedLong(s.substring(at + 1)));
            } catch (NumberFormatException e) {
                throw new UsageException("a revision is a number: NAME@REV, got '" + s + "'");
            }
        }
    }

    private static String action(List<String> args) throws UsageException {
        if (args.isEmpty()) throw new UsageException("an action is required");
        if (args.getFirst().equals("--help") || args.getFirst().equals("-h")) throw UsageException.helpRequested();
        return args.getFirst();
    }

    static ClientOptions.Target target(CommandLine c) throws UsageException {
        String t = c.option("--target", null);
        return t == null ? ClientOptions.DEFAULT_TARGET : ClientOptions.Target.parse(t);
    }

    private static long expectedRevision(CommandLine c) throws UsageException {
        Long r = c.unsigned("--expected-revision");
        return r == null ? 0 : r;
    }

    /** A message read from a JSON file ('-': stdin); a parse error names the file and the field. */
    @SuppressWarnings("unchecked")
    static <M extends Message> M read(String file, Message.Builder builder, InputStream in) throws IOException {
        String text = file.equals("-") ? new String(in.readAllBytes(), StandardCharsets.UTF_8) : Files.readString(Path.of(file));
        try {
            JsonFormat.parser().merge(text, builder);
        } catch (InvalidProtocolBufferException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
        return (M) builder.build();
    }

    static String json(MessageOrBuilder m) {
        try {
            return JSON.print(m);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String shorten(String s) {
        return s.length() <= 70 ? s : s.substring(0, 69) + "…";
    }

    private static String number(double d) {
        return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
    }
}
