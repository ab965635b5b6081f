package io.headgate.model.lm.ort;

import ai.onnxruntime.OrtException;
import io.headgate.model.lm.CacheGeometry;
import io.headgate.model.lm.CacheStorage;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A KV cache in memory a session allocated on its device: per layer one key and one value tensor of
 * [slots, kvHeads, maxLength, headDim], created once, zeroed, and seen by runs through views over
 * slot ranges (tensors over the same memory, made once per range). Slots move and swap by device
 * copies of whole slots ({@link SlotCopier}): positions past a stream's length are never read, so
 * copying them too is harmless, and one copy per tensor beats one per head.
 */
final class DeviceCacheStorage implements CacheStorage {

    /** A range of slots. */
    private record Slots(int first, int rows) {
    }

    private final OrtBoundSession owner;
    private final OrtCApi api;
    private final CacheGeometry geometry;
    private final MemorySegment memoryInfo;
    private final int elementType;
    private final long slotBytes;
    /** 2L tensors owning the memory: 2l holds layer l's keys, 2l + 1 its values. */
    private final List<MemorySegment> tensors = new ArrayList<>();
    private final long[] data;
    private final Map<Slots, MemorySegment[]> views = new HashMap<>();
    private final SlotCopier copier;
    private final MemorySegment allocator;
    /** One slot per tensor, for swaps; made on the first swap. */
    private List<MemorySegment> scratch;
    private boolean closed;

    DeviceCacheStorage(OrtBoundSession owner, OrtCApi api, MemorySegment allocator, MemorySegment memoryInfo, MemorySegment hostInfo,
                       SlotCopier copier, CacheGeometry geometry) throws OrtException {
        this.owner = owner;
        this.api = api;
        this.allocator = allocator;
        this.memoryInfo = memoryInfo;
        this.copier = copier;
        this.geometry = geometry;
        this.elementType = geometry.float16() ? OrtCApi.FLOAT16 : OrtCApi.FLOAT;
        this.slotBytes = geometry.slotElements() * geometry.elementBytes();
        this.data = new long[2 * geometry.layers()];
        try {
            for (int i = 0; i < data.length; i++) {
                tensors.add(api.createTensor(allocator, geometry.shape(geometry.slots()), elementType));
                data[i] = api.tensorData(tensors.get(i));
            }
            zero(hostInfo);
        } catch (OrtException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Allocated memory holds whatever was there: copy a zeroed host slot into every slot, as Java's buffers start. */
    private void zero(MemorySegment hostInfo) throws OrtException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment zeros = arena.allocate(slotBytes, 64); // zero-filled
            MemorySegment view = api.createTensorView(hostInfo, zeros.address(), slotBytes, geometry.shape(1), elementType);
            try {
                MemorySegment[] from = new MemorySegment[data.length];
                Arrays.fill(from, view);
                for (int s = 0; s < geometry.slots(); s++) copier.copy(from, views(s, 1));
            } finally {
                api.releaseValue(view);
            }
        }
    }

    boolean ownedBy(OrtBoundSession session) {
        return owner == session && !closed;
    }

    @Override
    public CacheGeometry geometry() {
        return geometry;
    }

    /** Views of slots [first, first + rows) of every tensor, in tensor order (2l keys, 2l + 1 values). */
    MemorySegment[] views(int first, int rows) throws OrtException {
        if (closed) throw new IllegalStateException("this KV cache's device memory was freed");
        geometry.checkSlots(first, rows);
        MemorySegment[] v = views.get(new Slots(first, rows));
        if (v == null) {
            v = new MemorySegment[data.length];
            try {
                for (int i = 0; i < data.length; i++) {
                    v[i] = api.createTensorView(memoryInfo, data[i] + first * slotBytes, rows * slotBytes, geometry.shape(rows), elementType);
                }
            } catch (OrtException | RuntimeException e) {
                for (MemorySegment made : v) if (made != null) api.releaseValue(made);
                throw e;
            }
            views.put(new Slots(first, rows), v);
        }
        return v;
    }

    @Override
    public void move(int from, int to, int length) {
        if (from == to) return;
        try {
            copier.copy(views(from, 1), views(to, 1));
        } catch (OrtException e) {
            throw new IllegalStateException("moving KV-cache slot " + from + " to " + to + " on the device failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void swap(int a, int b, int lengthA, int lengthB) {
        if (a == b) return;
        try {
            MemorySegment[] slotA = views(a, 1), slotB = views(b, 1), spare = scratch();
            copier.copy(slotA, spare);
            copier.copy(slotB, slotA);
            copier.copy(spare, slotB);
        } catch (OrtException e) {
            throw new IllegalStateException("swapping KV-cache slots " + a + " and " + b + " on the device failed: " + e.getMessage(), e);
        }
    }

    private MemorySegment[] scratch() throws OrtException {
        if (scratch == null) {
            scratch = new ArrayList<>();
            for (int i = 0; i < data.length; i++) scratch.add(api.createTensor(allocator, geometry.shape(1), elementType));
        }
        return scratch.toArray(MemorySegment[]::new);
    }

    /** Frees the views, then the memory; idempotent. The copier belongs to the session. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        views.values().forEach(v -> {
            for (MemorySegment view : v) api.releaseValue(view);
        });
        views.clear();
        if (scratch != null) scratch.forEach(api::releaseValue);
        tensors.forEach(api::releaseValue);
        owner.forget(this);
    }
}
