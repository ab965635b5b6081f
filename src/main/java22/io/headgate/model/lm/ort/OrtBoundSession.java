package io.headgate.model.lm.ort;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.headgate.model.Execution;
import io.headgate.model.lm.BoundSession;
import io.headgate.model.lm.CacheGeometry;
import io.headgate.model.lm.CacheStorage;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

import static io.headgate.model.lm.CausalLmContract.pastKey;
import static io.headgate.model.lm.CausalLmContract.pastValue;
import static io.headgate.model.lm.CausalLmContract.presentKey;
import static io.headgate.model.lm.CausalLmContract.presentValue;

/**
 * {@link BoundSession} over ONNX Runtime's C API. Per session: one {@code OrtIoBinding}, the
 * session's allocator for its device's memory ({@code Cuda} memory of the device under CUDA, CPU
 * memory otherwise), and the caches allocated from it. A run binds the step's host tensors (ids,
 * lengths, controls in; logits out) and, for every layer, the same device view of the cache's slot
 * range as past and as present, so GroupQueryAttention appends in place on the device; the bindings
 * are cleared after every run so none outlives the tensors of its step.
 *
 * <p>Release order: caches (views, then memory), the copier, the binding, the allocator, the memory
 * infos; the session itself belongs to the graph and is closed after this.
 */
public final class OrtBoundSession implements BoundSession {

    private final OrtCApi api;
    private final Execution execution;
    private final MemorySegment session;
    private final MemorySegment deviceInfo, hostInfo, allocator, binding, runOptions;
    private final Arena names = Arena.ofShared();
    private final Map<String, MemorySegment> cNames = new HashMap<>();
    private final Set<DeviceCacheStorage> caches = new LinkedHashSet<>();
    /** Per cache element type (fp32 / fp16): the copier its caches share. */
    private final Map<Boolean, SlotCopier> copiers = new HashMap<>();
    private boolean closed;

    private OrtBoundSession(OrtCApi api, OrtSession session, Execution execution) throws OrtException {
        this.api = api;
        this.execution = execution;
        this.session = JavaApiHandles.session(session);
        MemorySegment device = null, host = null, alloc = null, bind = null;
        try {
            host = api.createCpuMemoryInfo();
            device = execution.onGpu() ? api.createMemoryInfo("Cuda", execution.deviceId()) : api.createCpuMemoryInfo();
            alloc = api.createAllocator(this.session, device);
            bind = api.createIoBinding(this.session);
            this.runOptions = api.createRunOptions();
        } catch (OrtException | RuntimeException e) {
            api.releaseIoBinding(bind);
            api.releaseAllocator(alloc);
            api.releaseMemoryInfo(device);
            api.releaseMemoryInfo(host);
            names.close();
            throw e;
        }
        this.deviceInfo = device;
        this.hostInfo = host;
        this.allocator = alloc;
        this.binding = bind;
    }

    /** Called by name from {@link BoundSession#open}. */
    public static BoundSession open(OrtSession session, Execution execution) throws OrtException {
        return new OrtBoundSession(OrtCApi.get(), session, execution);
    }

    @Override
    public synchronized CacheStorage allocate(CacheGeometry geometry) {
        if (closed) throw new IllegalStateException("the graph's binding is closed");
        try {
            SlotCopier copier = copiers.get(geometry.float16());
            if (copier == null) {
                copier = new SlotCopier(api, execution, 2 * geometry.layers(), geometry.float16());
                copiers.put(geometry.float16(), copier);
            }
            DeviceCacheStorage storage = new DeviceCacheStorage(this, api, allocator, deviceInfo, hostInfo, copier, geometry);
            caches.add(storage);
            return storage;
        } catch (OrtException e) {
            throw new IllegalStateException("allocating a KV cache of " + geometry.slots() + " slots on " + execution.label()
                    + " failed: " + e.getMessage(), e);
        }
    }

    synchronized void forget(DeviceCacheStorage storage) {
        caches.remove(storage);
    }

    @Override
    public void run(Map<String, OnnxTensor> inputs, Map<String, OnnxTensor> outputs, CacheStorage cache, int firstSlot, int rows)
            throws OrtException {
        if (!(cache instanceof DeviceCacheStorage storage) || !storage.ownedBy(this)) {
            throw new IllegalArgumentException("this KV cache was not allocated by this graph's session");
        }
        MemorySegment[] views = storage.views(firstSlot, rows);
        try {
            for (var e : inputs.entrySet()) api.bindInput(binding, name(e.getKey()), JavaApiHandles.value(e.getValue()));
            for (int l = 0; l < storage.geometry().layers(); l++) {
                MemorySegment keys = views[2 * l], values = views[2 * l + 1];
                api.bindInput(binding, name(pastKey(l)), keys);
                api.bindInput(binding, name(pastValue(l)), values);
                api.bindOutput(binding, name(presentKey(l)), keys);
                api.bindOutput(binding, name(presentValue(l)), values);
            }
            for (var e : outputs.entrySet()) api.bindOutput(binding, name(e.getKey()), JavaApiHandles.value(e.getValue()));
            api.runWithBinding(session, runOptions, binding);
        } finally {
            api.clearBindings(binding);
        }
    }

    private MemorySegment name(String name) {
        return cNames.computeIfAbsent(name, names::allocateFrom);
    }

    @Override
    public Map<String, String> allocatorStats() {
        try {
            return api.allocatorStats(allocator);
        } catch (OrtException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    @Override
    public long liveHandles() {
        return api.liveHandles();
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        new ArrayList<>(caches).forEach(DeviceCacheStorage::close);
        for (SlotCopier copier : copiers.values()) {
            try {
                copier.close();
            } catch (OrtException e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
        }
        api.releaseIoBinding(binding);
        api.releaseRunOptions(runOptions);
        api.releaseAllocator(allocator);
        api.releaseMemoryInfo(deviceInfo);
        api.releaseMemoryInfo(hostInfo);
        names.close();
    }
}
