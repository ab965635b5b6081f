package io.headgate.model;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import io.headgate.convert.onnx.TensorProto;
import org.jboss.logging.Logger;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * ONNX Runtime sessions placed by an {@link Execution}: resolves {@code auto} and checks {@code cuda}
 * against this build and machine, and builds the session options every graph loader uses.
 *
 * <p>Whether CUDA works is probed once per device: the provider must be in this build (the CPU
 * artifact has none), ONNX Runtime must load it (the GPU artifact on a machine without CUDA 12
 * libraries fails here, after unpacking), and a one-node session must start on the device (no GPU,
 * or a bad device id, fails here). {@code getAvailableProviders()} alone proves nothing: it is the
 * build's list, not a check of the machine.
 */
public final class SessionFactory {
    private SessionFactory() {
    }

    private static final Logger LOG = Logger.getLogger(SessionFactory.class);
    /** Per device: why CUDA cannot be used, or empty when it can. */
    private static final Map<Integer, Optional<String>> CUDA_PROBES = new ConcurrentHashMap<>();

    /**
     * The execution to use for {@code requested}: {@code cpu} as is; {@code cuda} when it works, else an
     * error naming {@code field}; {@code auto} as {@code cuda} when it works, else the CPU, saying why in
     * one log line.
     */
    public static Execution resolve(String field, Execution requested) {
        return switch (requested.provider()) {
            case CPU -> requested;
            case CUDA -> {
                String problem = cudaProblem(requested.deviceId());
                if (problem != null) {
                    throw new IllegalArgumentException(field + " is '" + requested.label() + "' but CUDA cannot be used: " + problem);
                }
                yield requested;
            }
            case AUTO -> {
                String problem = cudaProblem(requested.deviceId());
                if (problem == null) yield new Execution(Execution.Provider.CUDA, requested.deviceId());
                LOG.warnf("%s is '%s': running on the CPU, CUDA cannot be used: %s", field, requested.label(), problem);
                yield Execution.CPU;
            }
        };
    }

    /** Why CUDA device {@code device} cannot run sessions here, or null when it can. */
    public static String cudaProblem(int device) {
        return CUDA_PROBES.computeIfAbsent(device, SessionFactory::probe).orElse(null);
    }

    private static Optional<String> probe(int device) {
        // the environment first: it registers the logger ONNX Runtime reports a failed provider load through
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        if (!OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA)) {
            return Optional.of("this ONNX Runtime build has no CUDA provider (the CPU artifact; build with -Pcuda)");
        }
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            try {
                options.addCUDA(device);
            } catch (OrtException | RuntimeException e) {
                return Optional.of("ONNX Runtime could not load its CUDA provider (it needs CUDA 12 and cuDNN 9 libraries): " + e.getMessage());
            }
            try (OrtSession ignored = env.createSession(CopyGraph.model(1, TensorProto.DataType.FLOAT), options)) {
                return Optional.empty();
            } catch (OrtException | RuntimeException e) {
                return Optional.of("no session starts on CUDA device " + device + ": " + e.getMessage());
            }
        }
    }

    /** Options for a resolved execution: the CUDA provider first when on a GPU, full graph optimisation; 0 threads lets ONNX Runtime choose. */
    public static OrtSession.SessionOptions options(Execution resolved, int intraOpThreads) throws OrtException {
        if (resolved.provider() == Execution.Provider.AUTO) throw new IllegalArgumentException("resolve an auto execution before building options");
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        try {
            if (intraOpThreads > 0) options.setIntraOpNumThreads(intraOpThreads);
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            if (resolved.onGpu()) options.addCUDA(resolved.deviceId());
            return options;
        } catch (OrtException | RuntimeException e) {
            options.close();
            throw e;
        }
    }

    /** A session of the ONNX file {@code graph} under a resolved execution. */
    public static OrtSession create(Path graph, Execution resolved, int intraOpThreads) throws OrtException {
        try (OrtSession.SessionOptions options = options(resolved, intraOpThreads)) {
            return OrtEnvironment.getEnvironment().createSession(graph.toString(), options);
        }
    }
}
