#!/usr/bin/env python3
"""Greedy head search on the three demo models, driven over gRPC as any client would.

One command per experiment (see EXPERIMENTS.md):

  /usr/bin/python3 experiments/search.py parens-lm     # boosts for deep brackets, addition guarded
  /usr/bin/python3 experiments/search.py digits-dit    # perturbed heads for unconditional samples
  /usr/bin/python3 experiments/search.py series-tsfm   # the order in which heads can be pruned

Without --target it starts the packaged gateway (target/quarkus-app, built by
`./mvnw -q package -DskipTests`) on a free loopback port and stops it at the end. Stubs are generated
from the project's proto with grpc_tools (Debian: python3-grpcio python3-grpc-tools). Every held-out
number is re-measured through Discovery.Evaluate, which scores the same examples. Tables go to stdout
and to target/experiments/search-MODEL.md.
"""
import argparse
import os
import random
import re
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STUBS = os.path.join(ROOT, 'target', 'python-stubs')


def stubs():
    proto_root = os.path.join(STUBS, 'proto')
    proto = os.path.join(proto_root, 'headgate', 'v1', 'headgate.proto')
    os.makedirs(os.path.dirname(proto), exist_ok=True)
    with open(os.path.join(ROOT, 'src', 'main', 'proto', 'headgate', 'v1', 'headgate.proto')) as f:
        text = f.read()
    # Debian's grpc-tools bundles a protoc older than proto3 `optional`: spell it as the synthetic oneof it is
    text = re.sub(r'(?m)^(\s*)optional\s+(\S+)\s+(\w+)\s*=\s*(\d+);', r'\1oneof _\3 { \2 \3 = \4; }', text)
    with open(proto, 'w') as f:
        f.write(text)
    from grpc_tools import protoc
    if protoc.main(['protoc', '-I' + proto_root, '--python_out=' + STUBS, '--grpc_python_out=' + STUBS, proto]) != 0:
        sys.exit('generating the stubs failed')
    sys.path.insert(0, STUBS)


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def start_gateway():
    jar = os.path.join(ROOT, 'target', 'quarkus-app', 'quarkus-run.jar')
    if not os.path.exists(jar):
        sys.exit('no packaged gateway: run ./mvnw -q package -DskipTests first (or pass --target)')
    port = free_port()
    java = os.path.join(os.environ['JAVA_HOME'], 'bin', 'java') if 'JAVA_HOME' in os.environ else 'java'
    log = open(os.path.join(ROOT, 'target', 'experiments', 'gateway.log'), 'w')
    process = subprocess.Popen([java, '-Dquarkus.http.port=%d' % port, '-Dquarkus.http.host=127.0.0.1',
                                '-Dheadgate.effect.canary-interval=0s', '-jar', jar], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    return process, '127.0.0.1:%d' % port


def wait_ready(pb, stub_models, model, process):
    deadline = time.time() + 300
    while time.time() < deadline:
        if process is not None and process.poll() is not None:
            sys.exit('the gateway exited; see target/experiments/gateway.log')
        try:
            info = stub_models.Describe(pb.DescribeModelRequest(model=model), timeout=5)
            if info.state.lower() == 'ready':
                return
            if info.state.lower() == 'failed':
                sys.exit('model %s failed to load' % model)
        except Exception:
            pass
        time.sleep(2)
    sys.exit('model %s not ready after 5 minutes' % model)


class Run:
    def __init__(self, pb, grpc_module, channel, model):
        import headgate.v1.headgate_pb2_grpc as rpc
        self.pb, self.model = pb, model
        self.discovery = rpc.DiscoveryStub(channel)
        self.models = rpc.ModelsStub(channel)
        self.lines = []

    def out(self, line=''):
        print(line, flush=True)
        self.lines.append(line)

    def search(self, request):
        started, result = time.time(), None
        for event in self.discovery.Search(request, timeout=7200):
            if event.HasField('progress'):
                p = event.progress
                chosen = ' '.join(unit(u) for u in p.chosen)
                print('  [%5.0f s] %-8s round %d/%d  %d/%d  evaluations %d  best %.4f  chosen: %s'
                      % (time.time() - started, p.phase, p.round, p.rounds, p.done, p.total, p.evaluations, p.best_score, chosen),
                      file=sys.stderr, flush=True)
            else:
                result = event.result
        return result

    def evaluate(self, spec, per_group, **extra):
        request = self.pb.EvaluateRequest(model=self.model, per_group=per_group, steering=self.pb.Steering(inline=spec), **extra)
        return self.discovery.Evaluate(request, timeout=3600)


def unit(u):
    return 'L%d' % u.layer if u.head < 0 else 'L%dH%d' % (u.layer, u.head)


def score_cell(s):
    if s.standard_error != s.standard_error:  # NaN: not a mean over examples
        return '%.4f (%+.4f)' % (s.value, s.difference)
    return '%.4f (%+.4f ± %.4f)' % (s.value, s.difference, s.standard_error)


def report(run, r):
    """The search's own report: picks, sweep, held-out table with paired differences against the baseline."""
    run.out('Objective: %s; stopped: %s after %d evaluations in %.0f s; %d development and %d held-out examples.'
            % (r.objective, r.stop, r.evaluations, r.seconds, r.dev_examples, r.held_out_examples))
    run.out()
    run.out('| round | unit | development score of the set |')
    run.out('|---|---|---|')
    for p in r.picks:
        run.out('| %d | %s | %.4f |' % (p.round, unit(p.unit), p.dev_score))
    if len(r.sweep) > 1:
        run.out()
        run.out('| strength | development score | guards hold |')
        run.out('|---|---|---|')
        for s in sorted(r.sweep, key=lambda s: s.strength):
            run.out('| %g | %s | %s |' % (s.strength, score_cell(s.dev.score), 'yes' if s.admissible else 'no'))
    run.out()
    guards = [g.name for g in r.held_out_baseline.guards]
    run.out('Held-out split (value, and paired difference from the baseline ± its standard error):')
    run.out()
    run.out('| profile | %s |' % ' | '.join([r.held_out_baseline.score.name] + guards))
    run.out('|---|%s' % ('---|' * (1 + len(guards))))
    rows = [('baseline (no units)', r.held_out_baseline), ('**search: %s at %g**' % (' '.join(unit(p.unit) for p in r.picks), r.strength), r.held_out_chosen)]
    rows += [('random %s' % ' '.join(unit(u) for u in s.units), s.held_out) for s in r.random_sets]
    rows += [(ref.name, ref.held_out) for ref in r.references]
    for name, m in rows:
        run.out('| %s | %s |' % (name, ' | '.join(score_cell(s) for s in [m.score] + list(m.guards))))
    run.out()


def gains(pb, heads, gain, description=''):
    return pb.ProfileSpec(description=description, gains=[pb.HeadGain(layer=l, head=h, gain=gain) for l, h in heads])


def parens_lm(run, args):
    pb = run.pb
    per_dev, per_held = args.dev_per_group or 100, args.held_out_per_group or 150
    layer1 = gains(pb, [(1, -1)], 1.6, 'layer 1 x 1.6')
    request = pb.SearchRequest(
        model='parens-lm', gain=1.6, per_round=1, rounds=args.rounds or 8, sweep=[1.3, 2.0], random_sets=5, seed=11,
        max_evaluations=1000, max_seconds=5400,
        probes=pb.ProbeObjective(score=pb.ProbeTask(probe_set='brackets', min_depth=7, max_depth=10),
                                 guards=[pb.ProbeTask(probe_set='addition', tolerance=0.02),
                                         pb.ProbeTask(probe_set='brackets', min_depth=1, max_depth=6, tolerance=0.02)],
                                 dev_per_group=per_dev, held_out_per_group=per_held),
        references=[pb.SearchReference(name='layer 1 x 1.6 (hand-made)', steering=pb.Steering(inline=layer1))])
    run.out('## parens-lm: search for deep brackets (depths 7-10), addition and depths 1-6 guarded')
    run.out()
    r = run.search(request)
    report(run, r)
    run.out('Per group through Evaluate (%d probes per group, the held-out probes):' % per_held)
    run.out()
    profiles = [('identity', pb.ProfileSpec()), ('search', r.suggested), ('layer 1 x 1.6', layer1)]
    # one call per set: each set's probes are then the search's held-out ones (all sets in one call draw addition after brackets)
    results = {name: {(g.task, g.group): g for s in ('brackets', 'addition') for g in run.evaluate(spec, per_held, probe_set=s).groups}
               for name, spec in profiles}
    groups = list(results['identity'].keys())
    run.out('| group | %s |' % ' | '.join(name for name, _ in profiles))
    run.out('|---|%s' % ('---|' * len(profiles)))
    for g in groups:
        run.out('| %s %s | %s |' % (g[0], g[1], ' | '.join('%.3f' % results[name][g].accuracy for name, _ in profiles)))
    run.out()


def digits_dit(run, args):
    pb = run.pb
    scale = 0.5
    per_dev, per_held = args.dev_per_class or 30, args.held_out_per_class or 50
    guidance = pb.Guidance(perturbation_scale=scale)

    def pag(layer, scale_):
        return pb.ProfileSpec(description='PAG layer %d' % layer, mixes=[pb.HeadMix(layer=layer, head=-1, mix=1.0)],
                              guidance=pb.Guidance(perturbation_scale=scale_))
    references = [pb.SearchReference(name='no guidance', steering=pb.Steering(inline=pb.ProfileSpec()))]
    references += [pb.SearchReference(name='whole layer %d, s = %g' % (l, scale), steering=pb.Steering(inline=pag(l, scale))) for l in range(4)]
    references += [pb.SearchReference(name='whole layer 1, s = 0.25', steering=pb.Steering(inline=pag(1, 0.25)))]
    request = pb.SearchRequest(
        model='digits-dit', mix=1.0, guidance=guidance, per_round=1, rounds=args.rounds or 4, sweep=[0.25, 0.5, 0.75],
        random_sets=3, seed=5, max_evaluations=400, max_seconds=5400, references=references,
        samples=pb.SampleObjective(metric='frechet_distance', unconditional=True, dev_per_class=per_dev, held_out_per_class=per_held,
                                   guards=[pb.MetricGuard(metric='confidence', tolerance=0.05)]))
    run.out('## digits-dit: perturbed heads for unconditional samples (PAG, s = %g), Frechet distance' % scale)
    run.out()
    r = run.search(request)
    report(run, r)
    run.out('u swept on the chosen heads, held-out samples through Evaluate (%d images):' % (10 * per_held))
    run.out()
    run.out('| u | Frechet distance | confidence |')
    run.out('|---|---|---|')
    for u in [0.25, 0.5, 0.75, 1.0]:
        spec = pb.ProfileSpec(mixes=[pb.HeadMix(layer=m.layer, head=m.head, mix=u) for m in r.suggested.mixes], guidance=guidance)
        q = run.evaluate(spec, per_held, unconditional=True).samples
        run.out('| %g | %.2f | %.4f |' % (u, q.frechet_distance, q.confidence))
    run.out()


def series_tsfm(run, args):
    pb = run.pb
    per_dev, per_held = args.dev_per_frequency or 20, args.held_out_per_frequency or 20
    rounds = args.rounds or 12
    request = pb.SearchRequest(
        model='series-tsfm', gain=0.0, per_round=1, rounds=rounds, max_loss=10.0, random_sets=5, seed=7,
        max_evaluations=1000, max_seconds=5400,
        windows=pb.WindowObjective(metric='relative_mase', dev_per_frequency=per_dev, held_out_per_frequency=per_held,
                                   guards=[pb.MetricGuard(metric='relative_wql', tolerance=10.0)]))
    run.out('## series-tsfm: pruning order by search (gain 0), relative MASE')
    run.out()
    r = run.search(request)
    report(run, r)
    order = [(p.unit.layer, p.unit.head) for p in r.picks]
    alone = [(p.unit.layer, p.unit.head) for p in sorted(r.first_round, key=lambda p: p.dev_score)]
    everyone = [(p.unit.layer, p.unit.head) for p in r.first_round]
    run.out('Search order: %s' % ' '.join('L%dH%d' % u for u in order))
    run.out()
    run.out('Single-head ablation order (round 1 of the same search: each head removed alone on the development series): %s'
            % ' '.join('L%dH%d' % u for u in alone))
    run.out()
    base = run.evaluate(pb.ProfileSpec(), per_held).forecast
    run.out('Heads removed against relative MASE (and WQL) on the held-out series, through Evaluate; unpruned %.4f (%.4f):'
            % (base.relative_mase, base.relative_wql))
    run.out()
    run.out('| k | search order | single-head ablation order | random k (5 sets: mean, min-max) |')
    run.out('|---|---|---|---|')
    rng = random.Random(1234)
    for k in [k for k in (1, 2, 4, 8, 12, 16) if k <= len(order)]:
        s = run.evaluate(gains(pb, order[:k], 0.0), per_held).forecast
        a = run.evaluate(gains(pb, alone[:k], 0.0), per_held).forecast
        randoms = [run.evaluate(gains(pb, rng.sample(everyone, k), 0.0), per_held).forecast.relative_mase for _ in range(5)]
        run.out('| %d | %.4f (%.4f) | %.4f (%.4f) | %.4f, %.4f-%.4f |' % (k, s.relative_mase, s.relative_wql, a.relative_mase, a.relative_wql,
                                                                       sum(randoms) / len(randoms), min(randoms), max(randoms)))
    run.out()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('model', choices=['parens-lm', 'digits-dit', 'series-tsfm'])
    parser.add_argument('--target', help='host:port of a running gateway (default: start the packaged one)')
    parser.add_argument('--rounds', type=int)
    for flag in ('dev-per-group', 'held-out-per-group', 'dev-per-class', 'held-out-per-class', 'dev-per-frequency', 'held-out-per-frequency'):
        parser.add_argument('--' + flag, type=int)
    args = parser.parse_args()
    os.makedirs(os.path.join(ROOT, 'target', 'experiments'), exist_ok=True)
    stubs()
    import grpc
    import headgate.v1.headgate_pb2 as pb
    import headgate.v1.headgate_pb2_grpc as rpc
    process, target = (None, args.target) if args.target else start_gateway()
    try:
        channel = grpc.insecure_channel(target, options=[('grpc.max_receive_message_length', 64 << 20)])
        wait_ready(pb, rpc.ModelsStub(channel), args.model, process)
        run = Run(pb, grpc, channel, args.model)
        started = time.time()
        {'parens-lm': parens_lm, 'digits-dit': digits_dit, 'series-tsfm': series_tsfm}[args.model](run, args)
        run.out('(%.0f s in all)' % (time.time() - started))
        with open(os.path.join(ROOT, 'target', 'experiments', 'search-%s.md' % args.model), 'w') as f:
            f.write('\n'.join(run.lines) + '\n')
    finally:
        if process is not None:
            process.terminate()
            process.wait(30)


if __name__ == '__main__':
    main()
