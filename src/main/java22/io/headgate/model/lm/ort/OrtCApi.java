package io.headgate.model.lm.ort;

import ai.onnxruntime.OrtException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The part of ONNX Runtime's C API that IOBinding needs, called through java.lang.foreign in the
 * {@code libonnxruntime} the Java API already loaded (where a process holds several copies, one per
 * class loader, the one whose function table the Java API calls).
 *
 * <p>{@code OrtApi} is a struct of function pointers, and a function is found by its position in it.
 * Positions never change once released (new functions are appended), but nothing checks them at
 * run time, so they are pinned: the indices below were counted in {@code onnxruntime_c_api.h} of
 * ONNX Runtime 1.29.0 (API version 29), the library must report version {@value #PINNED_VERSION}, and
 * a call with a known answer (a CPU memory info's name must read back as "Cpu") checks the table
 * before anything else uses it. Upgrading ONNX Runtime means re-deriving the indices from its header.
 *
 * <p>Every handle created here is counted until released ({@link #liveHandles()}), so tests can check
 * that the layer frees everything it allocates.
 */
final class OrtCApi {

    static final int API_VERSION = 29;
    private static final String SYMBOL = "OrtGetApiBase";
    static final String PINNED_VERSION = "1.29.0";

    // Positions in struct OrtApi, onnxruntime_c_api.h of ONNX Runtime 1.29.0, counted from 0.
    static final int GET_ERROR_MESSAGE = 2;
    static final int CREATE_RUN_OPTIONS = 39;
    static final int CREATE_TENSOR_AS_ORT_VALUE = 48;
    static final int CREATE_TENSOR_WITH_DATA_AS_ORT_VALUE = 49;
    static final int GET_TENSOR_MUTABLE_DATA = 51;
    static final int CREATE_MEMORY_INFO = 68;
    static final int CREATE_CPU_MEMORY_INFO = 69;
    static final int MEMORY_INFO_GET_NAME = 71;
    static final int RELEASE_STATUS = 93;
    static final int RELEASE_MEMORY_INFO = 94;
    static final int RELEASE_VALUE = 96;
    static final int RELEASE_RUN_OPTIONS = 97;
    static final int CREATE_ALLOCATOR = 131;
    static final int RELEASE_ALLOCATOR = 132;
    static final int RUN_WITH_BINDING = 133;
    static final int CREATE_IO_BINDING = 134;
    static final int RELEASE_IO_BINDING = 135;
    static final int BIND_INPUT = 136;
    static final int BIND_OUTPUT = 137;
    static final int CLEAR_BOUND_INPUTS = 141;
    static final int CLEAR_BOUND_OUTPUTS = 142;
    static final int GET_KEY_VALUE_PAIRS = 298;
    static final int RELEASE_KEY_VALUE_PAIRS = 300;
    static final int ALLOCATOR_GET_STATS = 319;
    /** Entries in the 1.29 table: no index may reach it. */
    static final int TABLE_SIZE = 425;

    /** ONNXTensorElementDataType values. */
    static final int FLOAT = 1, FLOAT16 = 10;
    /** OrtAllocatorType.OrtArenaAllocator and OrtMemType.OrtMemTypeDefault. */
    private static final int ARENA_ALLOCATOR = 1, MEM_TYPE_DEFAULT = 0;

    private static final FunctionDescriptor STATUS_P = FunctionDescriptor.of(ADDRESS, ADDRESS);
    private static final FunctionDescriptor STATUS_PP = FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS);
    private static final FunctionDescriptor STATUS_PPP = FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS);
    private static final FunctionDescriptor VOID_P = FunctionDescriptor.ofVoid(ADDRESS);

    private static volatile OrtCApi instance;
    private static volatile String unavailable;

    private final AtomicLong live = new AtomicLong();
    private final MethodHandle getErrorMessage, releaseStatus, createRunOptions, releaseRunOptions, createTensor, createTensorWithData,
            tensorData, createMemoryInfo, createCpuMemoryInfo, memoryInfoName, releaseMemoryInfo, releaseValue, createAllocator,
            releaseAllocator, runWithBinding, createIoBinding, releaseIoBinding, bindInput, bindOutput, clearBoundInputs,
            clearBoundOutputs, keyValuePairs, releaseKeyValuePairs, allocatorStats;

    private OrtCApi(MemorySegment table) {
        Linker linker = Linker.nativeLinker();
        MemorySegment api = table.reinterpret((long) TABLE_SIZE * ADDRESS.byteSize());
        java.util.function.BiFunction<Integer, FunctionDescriptor, MethodHandle> fn =
                (index, descriptor) -> linker.downcallHandle(api.getAtIndex(ADDRESS, index), descriptor);
        getErrorMessage = fn.apply(GET_ERROR_MESSAGE, FunctionDescriptor.of(ADDRESS, ADDRESS));
        releaseStatus = fn.apply(RELEASE_STATUS, VOID_P);
        createRunOptions = fn.apply(CREATE_RUN_OPTIONS, STATUS_P);
        releaseRunOptions = fn.apply(RELEASE_RUN_OPTIONS, VOID_P);
        createTensor = fn.apply(CREATE_TENSOR_AS_ORT_VALUE, FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS));
        createTensorWithData = fn.apply(CREATE_TENSOR_WITH_DATA_AS_ORT_VALUE,
                FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS));
        tensorData = fn.apply(GET_TENSOR_MUTABLE_DATA, STATUS_PP);
        createMemoryInfo = fn.apply(CREATE_MEMORY_INFO, FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
        createCpuMemoryInfo = fn.apply(CREATE_CPU_MEMORY_INFO, FunctionDescriptor.of(ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
        memoryInfoName = fn.apply(MEMORY_INFO_GET_NAME, STATUS_PP);
        releaseMemoryInfo = fn.apply(RELEASE_MEMORY_INFO, VOID_P);
        releaseValue = fn.apply(RELEASE_VALUE, VOID_P);
        createAllocator = fn.apply(CREATE_ALLOCATOR, STATUS_PPP);
        releaseAllocator = fn.apply(RELEASE_ALLOCATOR, VOID_P);
        runWithBinding = fn.apply(RUN_WITH_BINDING, STATUS_PPP);
        createIoBinding = fn.apply(CREATE_IO_BINDING, STATUS_PP);
        releaseIoBinding = fn.apply(RELEASE_IO_BINDING, VOID_P);
        bindInput = fn.apply(BIND_INPUT, STATUS_PPP);
        bindOutput = fn.apply(BIND_OUTPUT, STATUS_PPP);
        clearBoundInputs = fn.apply(CLEAR_BOUND_INPUTS, VOID_P);
        clearBoundOutputs = fn.apply(CLEAR_BOUND_OUTPUTS, VOID_P);
        keyValuePairs = fn.apply(GET_KEY_VALUE_PAIRS, FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        releaseKeyValuePairs = fn.apply(RELEASE_KEY_VALUE_PAIRS, VOID_P);
        allocatorStats = fn.apply(ALLOCATOR_GET_STATS, STATUS_PP);
    }

    /**
     * The C API of the loaded library, checked once.
     *
     * @throws UnsupportedOperationException saying why when the library cannot be found or is not the pinned version
     */
    static OrtCApi get() {
        OrtCApi api = instance;
        if (api != null) return api;
        synchronized (OrtCApi.class) {
            if (instance == null && unavailable == null) {
                try {
                    instance = connect();
                } catch (RuntimeException | OrtException e) {
                    unavailable = e.getMessage();
                }
            }
            if (instance == null) throw new UnsupportedOperationException("ONNX Runtime's C API cannot be bound: " + unavailable);
            return instance;
        }
    }

    private static OrtCApi connect() throws OrtException {
        long javaApi = JavaApiHandles.apiTable(); // also makes sure the Java API has loaded its library
        List<String> others = new ArrayList<>();
        for (MemorySegment getApiBase : candidates()) {
            Linker linker = Linker.nativeLinker();
            MemorySegment base;
            try {
                base = ((MemorySegment) linker.downcallHandle(getApiBase, FunctionDescriptor.of(ADDRESS)).invokeExact())
                        .reinterpret(2 * ADDRESS.byteSize());
            } catch (Throwable t) {
                throw new IllegalStateException("OrtGetApiBase failed", t);
            }
            // struct OrtApiBase { const OrtApi* GetApi(uint32_t); const char* GetVersionString(void); }
            String version = cString(call(linker.downcallHandle(base.getAtIndex(ADDRESS, 1), FunctionDescriptor.of(ADDRESS))));
            MemorySegment table;
            try {
                table = (MemorySegment) linker.downcallHandle(base.getAtIndex(ADDRESS, 0), FunctionDescriptor.of(ADDRESS, JAVA_INT))
                        .invokeExact(API_VERSION);
            } catch (Throwable t) {
                throw new IllegalStateException("GetApi failed", t);
            }
            if (javaApi != 0 && table.address() != javaApi) {
                // another copy of the library (loaded for another class loader): not the one this Java API calls
                others.add(version + " at 0x" + Long.toHexString(table.address()));
                continue;
            }
            if (!PINNED_VERSION.equals(version)) {
                throw new IllegalStateException("the loaded ONNX Runtime is " + version + "; the C API table indices are pinned to "
                        + PINNED_VERSION + " (re-derive them from that version's onnxruntime_c_api.h)");
            }
            if (table.address() == 0) throw new IllegalStateException("ONNX Runtime " + version + " does not serve API version " + API_VERSION);
            OrtCApi api = new OrtCApi(table);
            MemorySegment info = api.createCpuMemoryInfo();
            try {
                String name = api.memoryInfoName(info);
                if (!"Cpu".equals(name)) throw new IllegalStateException("C API table check failed: a CPU memory info is named '" + name + "'");
            } finally {
                api.releaseMemoryInfo(info);
            }
            return api;
        }
        throw new IllegalStateException("no loaded libonnxruntime serves the C API table the Java API uses (0x"
                + Long.toHexString(javaApi) + "; found " + others + ")");
    }

    /**
     * {@code OrtGetApiBase} in each loaded copy of the library: the one loaded for this class loader first,
     * then every libonnxruntime.so mapped into the process (a class loader that did not load the Java API, or
     * two class loaders that each loaded a copy, as a test JVM running application-server tests may have),
     * opened again by path, which the dynamic loader resolves to the library already mapped.
     */
    private static List<MemorySegment> candidates() {
        List<MemorySegment> found = new ArrayList<>();
        SymbolLookup.loaderLookup().find(SYMBOL).ifPresent(found::add);
        for (Path library : mappedLibraries()) {
            SymbolLookup.libraryLookup(library, Arena.global()).find(SYMBOL).ifPresent(found::add);
        }
        if (found.isEmpty()) throw new IllegalStateException("no loaded library exports " + SYMBOL);
        return found;
    }

    private static List<Path> mappedLibraries() {
        Set<Path> paths = new LinkedHashSet<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
                int slash = line.indexOf('/');
                if (slash >= 0 && line.endsWith("/libonnxruntime.so")) paths.add(Path.of(line.substring(slash)));
            }
        } catch (IOException e) {
            return List.of(); // not Linux: the class loader's lookup is all there is
        }
        return new ArrayList<>(paths);
    }

    private static MemorySegment call(MethodHandle noArguments) {
        try {
            return (MemorySegment) noArguments.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static String cString(MemorySegment pointer) {
        return pointer.address() == 0 ? null : pointer.reinterpret(Long.MAX_VALUE).getString(0);
    }

    /** Handles created through this layer and not yet released, process-wide. */
    long liveHandles() {
        return live.get();
    }

    // ---- status

    private void check(MemorySegment status, String call) throws OrtException {
        if (status.address() == 0) return;
        String message;
        try {
            message = cString((MemorySegment) getErrorMessage.invokeExact(status));
            releaseStatus.invokeExact(status);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        throw new OrtException(call + ": " + message);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    /** Returns the pointer written to {@code out} by a successful create call, counting it as live. */
    private MemorySegment created(MemorySegment out) {
        live.incrementAndGet();
        return out.get(ADDRESS, 0);
    }

    private void released(MethodHandle release, MemorySegment handle) {
        if (handle == null || handle.address() == 0) return;
        try {
            release.invokeExact(handle);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        live.decrementAndGet();
    }

    // ---- memory info and allocators

    MemorySegment createCpuMemoryInfo() throws OrtException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check((MemorySegment) createCpuMemoryInfo.invokeExact(ARENA_ALLOCATOR, MEM_TYPE_DEFAULT, out), "CreateCpuMemoryInfo");
            return created(out);
        } catch (OrtException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Memory of device {@code id} of the named kind ("Cuda"). */
    MemorySegment createMemoryInfo(String name, int id) throws OrtException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check((MemorySegment) createMemoryInfo.invokeExact(arena.allocateFrom(name), ARENA_ALLOCATOR, id, MEM_TYPE_DEFAULT, out),
                    "CreateMemoryInfo");
            return created(out);
        } catch (OrtException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    String memoryInfoName(MemorySegment info) throws OrtException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check((MemorySegment) memoryInfoName.invokeExact(info, out), "MemoryInfoGetName");
            return cString(out.get(ADDRESS, 0));
        } catch (OrtException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void releaseMemoryInfo(MemorySegment info) {
        released(releaseMemoryInfo, info);
    }

    /** The allocator {@code session} uses for memory described by {@code info}. */
    MemorySegment createAllocator(MemorySegment session, MemorySegment info) throws OrtException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check((MemorySegment) createAllocator.invokeExact(session, info, out), "CreateAllocator");
            return created(out);
        } catch (OrtException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void releaseAllocator(MemorySegment allocator) {
        released(releaseAllocator, allocator);
    }

    /** The allocator's statistics (an arena reports InUse, TotalAllocated, NumAllocs, ...; others may report none). */
    Map<String, String> allocatorStats(MemorySegment allocator) throws OrtException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check((MemorySegment) allocatorStats.invokeExact(allocator, out), "AllocatorGetStats");
            MemorySegment kvps = created(out);
            try {
                MemorySegment keys = arena.allocate(ADDRESS), values = arena.allocate(ADDRESS), count = arena.allocate(JAVA_LONG);
                keyValuePairs.invokeExact(kvps, keys, values, count);
                int n = Math.toIntExact(count.get(JAVA_LONG, 0));
                MemorySegment k = keys.get(ADDRESS, 0).reinterpret(n * ADDRESS.byteSize());
                MemorySegment v = values.get(ADDRESS, 0).reinterpret(n * ADDRESS.byteSize());
                Map<String, String> stats = new LinkedHashMap<>();
                for (int i = 0; i < n; i++) stats.put(cString(k.getAtIndex(ADDRESS, i)), cString(v.getAtIndex(ADDRESS, i)));
                return stats;
            } finally {
                released(releaseKeyValuePairs, kvps);
            }
        } catch (OrtException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- tensors

    /** A tensor whose memory {@code allocator} owns (freed by {@link #releaseValue}); contents undefined. */
    MemorySegment createTensor(MemorySegment allocator, long[] shape, int elementType) throws OrtException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check((MemorySegment) createTensor.invokeExact(allocator, arena.allocateFrom(JAVA_LONG, shape), (long) shape.length, elementType, out),
                    "CreateTensorAsOrtValue");
            return created(out);
        } catch (OrtException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** A tensor over {@code bytes} bytes at {@code data} in memory described by {@code info}; the memory stays the caller's. */
    MemorySegment createTensorView(MemorySegment info, long data, long bytes, long[] shape, int elementType) throws OrtException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check((MemorySegment) createTensorWithData.invokeExact(info, MemorySegment.ofAddress(data), bytes,
                    arena.allocateFrom(JAVA_LONG, shape), (long) shape.length, elementType, out), "CreateTensorWithDataAsOrtValue");
            return created(out);
        } catch (OrtException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The address of a tensor's data (device memory for a device tensor: not readable from here). */
    long tensorData(MemorySegment value) throws OrtException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check((MemorySegment) tensorData.invokeExact(value, out), "GetTensorMutableData");
            return out.get(ADDRESS, 0).address();
        } catch (OrtException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void releaseValue(MemorySegment value) {
        released(releaseValue, value);
    }

    // ---- binding and runs

    MemorySegment createRunOptions() throws OrtException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check((MemorySegment) createRunOptions.invokeExact(out), "CreateRunOptions");
            return created(out);
        } catch (OrtException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void releaseRunOptions(MemorySegment options) {
        released(releaseRunOptions, options);
    }

    MemorySegment createIoBinding(MemorySegment session) throws OrtException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check((MemorySegment) createIoBinding.invokeExact(session, out), "CreateIoBinding");
            return created(out);
        } catch (OrtException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void releaseIoBinding(MemorySegment binding) {
        released(releaseIoBinding, binding);
    }

    /** Binds {@code value} to the input {@code name} (a C string); a host value bound to a device input is copied now. */
    void bindInput(MemorySegment binding, MemorySegment name, MemorySegment value) throws OrtException {
        try {
            check((MemorySegment) bindInput.invokeExact(binding, name, value), "BindInput");
        } catch (OrtException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Binds {@code value} as the memory the output {@code name} is written to. */
    void bindOutput(MemorySegment binding, MemorySegment name, MemorySegment value) throws OrtException {
        try {
            check((MemorySegment) bindOutput.invokeExact(binding, name, value), "BindOutput");
        } catch (OrtException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void clearBindings(MemorySegment binding) {
        try {
            clearBoundInputs.invokeExact(binding);
            clearBoundOutputs.invokeExact(binding);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void runWithBinding(MemorySegment session, MemorySegment runOptions, MemorySegment binding) throws OrtException {
        try {
            check((MemorySegment) runWithBinding.invokeExact(session, runOptions, binding), "RunWithBinding");
        } catch (OrtException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}
