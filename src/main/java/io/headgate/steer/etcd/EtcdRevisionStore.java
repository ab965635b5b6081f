package io.headgate.steer.etcd;

import com.google.protobuf.ByteString;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.headgate.steer.ProfileValidator;
import io.headgate.steer.RevisionCodec;
import io.headgate.steer.RevisionStore;
import io.headgate.steer.Revisioned;
import io.headgate.steer.etcd.rpc.Compare;
import io.headgate.steer.etcd.rpc.Event;
import io.headgate.steer.etcd.rpc.KeyValue;
import io.headgate.steer.etcd.rpc.PutRequest;
import io.headgate.steer.etcd.rpc.RangeRequest;
import io.headgate.steer.etcd.rpc.RangeResponse;
import io.headgate.steer.etcd.rpc.RequestOp;
import io.headgate.steer.etcd.rpc.TxnRequest;
import io.headgate.steer.etcd.rpc.WatchCreateRequest;
import io.headgate.steer.etcd.rpc.WatchRequest;
import io.headgate.steer.etcd.rpc.WatchResponse;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Revisions in etcd, shared by every replica: revision n of (model, name) is the key
 * {@code <root><kind>s/<model>/<name>/<n>}, holding the same JSON a file would, created once in a
 * transaction that succeeds only if the key is absent and never changed afterwards.
 *
 * <p>A follower thread loads every key under the kind's prefix (paged, at one store revision),
 * then watches the prefix from the next store revision, delivering each new key to the registry.
 * When the watch breaks (etcd down, a member without a leader, the connection lost) the registry
 * is marked down with the reason and the follower reconnects with backoff, resuming the watch from
 * the store revision after the last one it delivered, so no revision written meanwhile is missed;
 * if etcd compacted that far, it reloads the prefix instead.
 */
public final class EtcdRevisionStore<R extends Revisioned> implements RevisionStore<R> {

    private static final Logger LOG = Logger.getLogger(EtcdRevisionStore.class);
    private static final int PAGE = 256;
    private static final long FIRST_BACKOFF_MS = 100, MAX_BACKOFF_MS = 2000;
    private static final Object STREAM_END = new Object();
    private static final DateTimeFormatter TIME = DateTimeFormatter.ISO_LOCAL_TIME.withZone(ZoneOffset.UTC);

    private final EtcdConnection etcd;
    private final RevisionCodec<R> codec;
    private final String prefix;
    private final ByteString prefixKey, prefixEnd;
    private final List<Runnable> onLoad = new CopyOnWriteArrayList<>();
    /** The store revision up to which every key under the prefix has been delivered: the watch resumes after it. */
    private final AtomicLong delivered = new AtomicLong();

    private Sink<R> sink;
    private Thread follower;
    private volatile boolean closed, loaded, watching;
    private volatile String downReason;
    private volatile Instant downSince;
    private volatile ClientCallStreamObserver<WatchRequest> stream;

    /** @param root the key prefix of everything Headgate keeps in etcd, ending in '/' (e.g. {@code /headgate/}) */
    public EtcdRevisionStore(EtcdConnection etcd, String root, RevisionCodec<R> codec) {
        if (!root.startsWith("/") || !root.endsWith("/")) {
            throw new IllegalArgumentException("headgate.registry.etcd.prefix: must start and end with '/', got '" + root + "'");
        }
        this.etcd = etcd;
        this.codec = codec;
        this.prefix = root + codec.kind() + "s/";
        this.prefixKey = utf8(prefix);
        this.prefixEnd = rangeEnd(prefixKey);
    }

    @Override
    public void open(Sink<R> sink) {
        this.sink = sink;
        follower = new Thread(this::follow, "headgate-etcd-" + codec.kind() + "s");
        follower.setDaemon(true);
        follower.start();
    }

    @Override
    public boolean create(R entry) throws IOException {
        ByteString key = utf8(key(entry.model(), entry.name(), entry.revision()));
        TxnRequest txn = TxnRequest.newBuilder()
                .addCompare(Compare.newBuilder().setKey(key).setTarget(Compare.CompareTarget.CREATE)
                        .setResult(Compare.CompareResult.EQUAL).setCreateRevision(0)) // absent
                .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(key)
                        .setValue(ByteString.copyFrom(codec.encode(entry)))))
                .build();
        return etcd.txn(txn, "creating " + key.toStringUtf8()).getSucceeded();
    }

    @Override
    public List<R> history(String model, String name) throws IOException {
        ByteString from = utf8(prefix + model + "/" + name + "/");
        List<R> out = new ArrayList<>();
        for (KeyValue kv : rangeAll(from, rangeEnd(from), "reading " + from.toStringUtf8()).kvs()) {
            R entry = decode(kv);
            if (entry != null) out.add(entry);
        }
        out.sort(Comparator.comparingLong(Revisioned::revision));
        return out;
    }

    @Override
    public Health health() {
        if (watching && downReason == null) {
            return new Health(true, "etcd at " + etcd.endpoint() + ", keys under " + prefix + ", store revision " + delivered.get());
        }
        if (downReason == null) return new Health(false, "connecting to etcd at " + etcd.describe());
        return new Health(false, "unreachable since " + TIME.format(downSince) + " UTC (" + downReason + "); "
                + (loaded ? "serving what was loaded up to store revision " + delivered.get() + ", writes refused" : "nothing loaded yet"));
    }

    @Override
    public void whenLoaded(Runnable task) {
        onLoad.add(task);
        if (loaded) runLoadTasks();
    }

    @Override
    public void close() {
        closed = true;
        ClientCallStreamObserver<WatchRequest> s = stream;
        if (s != null) s.cancel("closing", null);
        if (follower != null) {
            follower.interrupt();
            try {
                follower.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    // ------------------------------------------------------------------ the follower

    private void follow() {
        boolean reload = true; // nothing loaded yet, or etcd compacted past where the watch would resume
        long backoff = FIRST_BACKOFF_MS;
        while (!closed) {
            try {
                if (reload) {
                    load();
                    reload = false;
                }
                reload = watch();
                backoff = FIRST_BACKOFF_MS;
            } catch (InterruptedException e) {
                if (closed || etcd.closed()) return;
            } catch (Exception e) {
                if (closed || etcd.closed()) return;
                markDown(e);
                if (watching || backoff == FIRST_BACKOFF_MS) LOG.warnf("registry %s: %s", prefix, downReason);
                watching = false;
                etcd.failover();
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException ie) {
                    if (closed) return;
                }
                backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
            }
        }
    }

    /** Delivers every key under the prefix, oldest first; on a reload after compaction, what is new to the registry is news. */
    private void load() throws IOException {
        Page all = rangeAll(prefixKey, prefixEnd, "loading " + prefix);
        List<KeyValue> kvs = new ArrayList<>(all.kvs());
        kvs.sort(Comparator.comparingLong(KeyValue::getModRevision));
        for (KeyValue kv : kvs) {
            R entry = decode(kv);
            if (entry != null) sink.accept(entry, loaded);
        }
        delivered.set(all.revision());
        if (!loaded) LOG.infof("registry %s: loaded %d revisions at store revision %d from etcd at %s", prefix, kvs.size(), all.revision(), etcd.endpoint());
        loaded = true;
        runLoadTasks();
    }

    /**
     * Watches the prefix from the store revision after the last one delivered, until the stream fails.
     *
     * @return true if that revision was compacted away (reload instead); otherwise it ends only by throwing
     */
    private boolean watch() throws Exception {
        BlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
        ClientCallStreamObserver<WatchRequest> requests = etcd.watch(new StreamObserver<>() {
            public void onNext(WatchResponse r) {
                inbox.add(r);
            }

            public void onError(Throwable t) {
                inbox.add(t);
            }

            public void onCompleted() {
                inbox.add(STREAM_END);
            }
        });
        stream = requests;
        try {
            requests.onNext(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
                    .setKey(prefixKey).setRangeEnd(prefixEnd).setStartRevision(delivered.get() + 1).setProgressNotify(true)).build());
            while (!closed) {
                Object message = inbox.poll(1, TimeUnit.SECONDS);
                if (message == null) continue;
                if (message instanceof Exception e) throw e;
                if (message instanceof Throwable t) throw new IOException(t);
                if (message == STREAM_END) throw new IOException("etcd ended the watch stream");
                WatchResponse r = (WatchResponse) message;
                if (r.getCreated()) markUp();
                if (r.getCanceled()) {
                    if (r.getCompactRevision() > 0) {
                        LOG.infof("registry %s: etcd compacted past store revision %d (oldest kept: %d); reloading",
                                prefix, delivered.get() + 1, r.getCompactRevision());
                        return true;
                    }
                    throw new IOException("etcd cancelled the watch: " + r.getCancelReason());
                }
                apply(r);
            }
            throw new InterruptedException("closing");
        } finally {
            stream = null;
            requests.cancel("watch ended", null);
        }
    }

    /** One watch response: every event of one store revision comes in one response, so progress moves after the whole of it. */
    private void apply(WatchResponse r) {
        long progress = delivered.get();
        for (Event e : r.getEventsList()) {
            if (e.getType() == Event.EventType.PUT) {
                R entry = decode(e.getKv());
                if (entry != null) sink.accept(entry, true);
            } else {
                LOG.warnf("registry %s: key %s was deleted in etcd by hand; revisions are never deleted, this replica keeps it until it restarts",
                        prefix, e.getKv().getKey().toStringUtf8());
            }
            progress = Math.max(progress, e.getKv().getModRevision());
        }
        // a progress notification: every later event of this stream is newer than its header's revision
        if (r.getEventsCount() == 0 && !r.getCreated()) progress = Math.max(progress, r.getHeader().getRevision());
        delivered.set(progress);
    }

    private void markUp() {
        if (downReason != null) LOG.infof("registry %s: etcd at %s reachable again; resumed after store revision %d", prefix, etcd.endpoint(), delivered.get());
        downReason = null;
        downSince = null;
        watching = true;
        runLoadTasks();
    }

    private void markDown(Exception e) {
        if (downReason == null) downSince = Instant.now();
        String why = e.getMessage() == null ? e.toString() : e instanceof StatusRuntimeException ? EtcdConnection.reason(e) : e.getMessage();
        downReason = why.startsWith("etcd at ") ? why : "etcd at " + etcd.endpoint() + ": " + why;
    }

    /** Tasks waiting for the store (seeding): a task that fails now is tried again after the next reconnect. */
    private synchronized void runLoadTasks() {
        for (Runnable task : List.copyOf(onLoad)) {
            try {
                task.run();
                onLoad.remove(task);
            } catch (RuntimeException e) {
                LOG.warnf("registry %s: a task waiting for etcd failed, retrying after the next reconnect: %s", prefix, e.getMessage());
            }
        }
    }

    // ------------------------------------------------------------------ keys

    private String key(String model, String name, long revision) {
        return prefix + model + "/" + name + "/" + revision;
    }

    /** A stored revision, or null (logged) for a key that is not one: written by hand, or damaged. */
    private R decode(KeyValue kv) {
        String key = kv.getKey().toStringUtf8();
        String[] parts = key.substring(prefix.length()).split("/", -1);
        try {
            if (parts.length != 3 || !ProfileValidator.isValidName(parts[0]) || !ProfileValidator.isValidName(parts[1])
                    || !parts[2].matches("[1-9][0-9]{0,17}")) {
                throw new IOException("key " + key + " is not " + prefix + "<model>/<name>/<revision>");
            }
            return codec.decode(kv.getValue().toByteArray(), parts[0], parts[1], Long.parseLong(parts[2]), "etcd key " + key);
        } catch (IOException e) {
            LOG.errorf("registry %s: skipping %s", prefix, e.getMessage());
            return null;
        }
    }

    private record Page(List<KeyValue> kvs, long revision) {
    }

    /** Every key in [from, end) at one store revision, in pages. */
    private Page rangeAll(ByteString from, ByteString end, String what) throws IOException {
        List<KeyValue> kvs = new ArrayList<>();
        long at = 0;
        ByteString next = from;
        while (true) {
            RangeResponse r = etcd.range(RangeRequest.newBuilder().setKey(next).setRangeEnd(end).setLimit(PAGE).setRevision(at).build(), what);
            if (at == 0) at = r.getHeader().getRevision();
            kvs.addAll(r.getKvsList());
            if (!r.getMore() || r.getKvsCount() == 0) return new Page(kvs, at);
            next = r.getKvs(r.getKvsCount() - 1).getKey().concat(ByteString.copyFrom(new byte[] {0}));
        }
    }

    private static ByteString utf8(String s) {
        return ByteString.copyFrom(s, StandardCharsets.UTF_8);
    }

    /** The end of the range of every key starting with {@code prefix}: the prefix with its last byte incremented. */
    static ByteString rangeEnd(ByteString prefix) {
        byte[] end = prefix.toByteArray();
        for (int i = end.length - 1; i >= 0; i--) {
            if (end[i] != (byte) 0xff) {
                end[i]++;
                return ByteString.copyFrom(end, 0, i + 1);
            }
        }
        return ByteString.copyFrom(new byte[] {0}); // every key
    }
}
