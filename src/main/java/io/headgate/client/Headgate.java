package io.headgate.client;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.headgate.client.ClientOptions.UsageException;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * {@code headgate}, the command-line client ({@code bin/headgate}, the jar {@code target/headgate-client.jar}):
 * one subcommand per kind of stream and per admin service. Results go to stdout, progress and notices
 * to stderr; the exit status is 0, 1 for a call the server refused or failed, 2 for a bad command line.
 */
public final class Headgate {

    static {
        // jboss-logmanager is on the classpath when the client runs inside the build (exec:java); the JDK
        // asks for System.getLogger on exit and it complains unless it is java.util.logging's manager from the start
        if (System.getProperty("java.util.logging.manager") == null && present("org.jboss.logmanager.LogManager")) {
            System.setProperty("java.util.logging.manager", "org.jboss.logmanager.LogManager");
        }
    }

    // grpc-netty logs transport details at INFO through java.util.logging; they are not the user's business.
    // A strong reference: the logging framework holds loggers weakly and would forget the level.
    private static final Logger GRPC_LOG = Logger.getLogger("io.grpc");

    static final String USAGE = """
            usage: headgate COMMAND [options]

            A client of a Headgate gateway (plaintext gRPC; every command takes --target HOST:PORT, default localhost:8080).

              generate [options] PROMPT        stream tokens from a language model, switching profiles as asked
                                               (the default command: 'headgate PROMPT' is 'headgate generate PROMPT')
              image [options] --out FILE.png   draw an image with a diffusion model and save it as PNG
              forecast [options] --csv FILE    forecast a series read from a CSV column, feeding the values after
                                               the history back as actuals, with live error against seasonal naive
              models list | describe NAME
              profiles list | get | put | delete                              (admin)
              experiments list | get | put | delete | promote | compare        (admin)
              discovery scan | suggest | evaluate                              (suggest is admin)

            Admin commands send the token in the environment variable HEADGATE_ADMIN_TOKEN.
            'headgate COMMAND --help' lists a command's options.""";

    private Headgate() {
    }

    public static void main(String[] args) {
        GRPC_LOG.setLevel(Level.WARNING);
        System.exit(run(args, utf8(System.out), utf8(System.err), System.getenv(), System.in));
    }

    /** Runs one command; returns its exit status. */
    static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env, InputStream in) {
        List<String> words = Arrays.asList(args);
        String command = words.isEmpty() ? "--help" : words.getFirst();
        List<String> rest = words.isEmpty() ? List.of() : words.subList(1, words.size());
        String token = env.get(Gateway.TOKEN_VARIABLE);
        try {
            return switch (command) {
                case "-h", "--help", "help" -> {
                    out.println(USAGE);
                    yield HeadgateClient.EXIT_FINISHED;
                }
                case "generate" -> HeadgateClient.run(ClientOptions.parse(rest.toArray(String[]::new)), out, err, in);
                case "image" -> ImageCommand.run(rest, out, err);
                case "forecast" -> ForecastCommand.run(rest, out, err);
                case "models" -> AdminCommands.models(rest, out);
                case "profiles" -> AdminCommands.profiles(rest, out, token, in);
                case "experiments" -> AdminCommands.experiments(rest, out, token, in);
                case "discovery" -> DiscoveryCommands.run(rest, out, err, token);
                // no command: a generation, as the client always took it
                default -> HeadgateClient.run(ClientOptions.parse(args), out, err, in);
            };
        } catch (UsageException e) {
            String usage = usage(command);
            if (e.help()) {
                out.println(usage);
                return HeadgateClient.EXIT_FINISHED;
            }
            err.println("error: " + e.getMessage());
            err.println(usage);
            return HeadgateClient.EXIT_USAGE;
        } catch (StatusRuntimeException e) {
            Status s = e.getStatus();
            err.println("error: " + s.getCode() + (s.getDescription() == null ? "" : ": " + s.getDescription()));
            if (s.getCode() == Status.Code.UNAVAILABLE && s.getCause() != null) err.println("  caused by: " + s.getCause());
            if ((s.getCode() == Status.Code.UNAUTHENTICATED || s.getCode() == Status.Code.PERMISSION_DENIED) && token == null) {
                err.println("  (an admin call: set " + Gateway.TOKEN_VARIABLE + " to the gateway's admin token)");
            }
            return HeadgateClient.EXIT_ERROR;
        } catch (IOException e) {
            err.println("error: " + e.getMessage());
            return HeadgateClient.EXIT_ERROR;
        } finally {
            out.flush();
            err.flush();
        }
    }

    private static String usage(String command) {
        return switch (command) {
            case "image" -> ImageCommand.USAGE;
            case "forecast" -> ForecastCommand.USAGE;
            case "models", "profiles", "experiments" -> AdminCommands.USAGE;
            case "discovery" -> DiscoveryCommands.USAGE;
            case "generate" -> ClientOptions.USAGE;
            default -> command.startsWith("-") && !command.equals("--help") && !command.equals("-h") ? ClientOptions.USAGE : USAGE;
        };
    }

    private static boolean present(String className) {
        try {
            Class.forName(className, false, Headgate.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    static PrintStream utf8(PrintStream stream) {
        return new PrintStream(stream, false, StandardCharsets.UTF_8);
    }
}
