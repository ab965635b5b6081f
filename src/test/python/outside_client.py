#!/usr/bin/env python3
"""Headgate driven from outside, as a new user would, with Python's grpcio instead of grpc-java.

Stubs are generated from the project's proto (see PythonClient.java) into the directory given by
--stubs. Two commands, each printing one JSON document on stdout for the JUnit test to assert on:

  storm      many Generate streams over one channel (one HTTP/2 connection) from several
             threads, each cancelled after its first token
  malformed  a table of malformed or hostile requests, each with the status and the field the
             server is expected to answer with, then hostile but valid traffic, then a normal
             stream

This script only reports what the server said; the expectations are asserted in Java.
"""
import argparse
import collections
import json
import math
import queue
import sys
import threading
import time

MODEL = 'parens-lm'
EXPERIMENT = 'outside-ab'
PROMPT = '{(<[()]([{='
DONE = object()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--stubs', required=True, help='directory holding headgate/v1/headgate_pb2*.py')
    parser.add_argument('--target', required=True, help='host:port of the gateway')
    commands = parser.add_subparsers(dest='command', required=True)
    storm = commands.add_parser('storm')
    storm.add_argument('--streams', type=int, default=800)
    storm.add_argument('--threads', type=int, default=8)
    storm.add_argument('--max-tokens', type=int, default=40)
    malformed = commands.add_parser('malformed')
    malformed.add_argument('--admin-token', required=True)
    args = parser.parse_args()

    sys.path.insert(0, args.stubs)
    global grpc, pb, rpc
    import grpc
    from headgate.v1 import headgate_pb2 as pb
    from headgate.v1 import headgate_pb2_grpc as rpc

    channel = grpc.insecure_channel(args.target)
    grpc.channel_ready_future(channel).result(timeout=60)
    if args.command == 'storm':
        report = run_storm(channel, args.streams, args.threads, args.max_tokens)
    else:
        report = run_malformed(channel, args.admin_token)
    json.dump(report, sys.stdout)
    sys.stdout.write('\n')


# ---------------------------------------------------------------- cancellation storm

def run_storm(channel, streams, threads, max_tokens):
    """Opens `streams` Generate calls on one channel from `threads` threads; each is cancelled
    after its first token. Counts how each call ended and how often the channel became READY:
    once means every call shared one connection; more means the connection was dropped."""
    ready = []
    channel.subscribe(lambda state: ready.append(state) if state == grpc.ChannelConnectivity.READY else None)
    stub = rpc.GeneratorStub(channel)
    outcomes = collections.Counter()
    errors = []
    lock = threading.Lock()
    counter = iter(range(streams))

    def one():
        requests = queue.Queue()
        requests.put(generate(start=pb.Start(model=MODEL, text=PROMPT, max_tokens=max_tokens, ignore_eos=True)))
        call = stub.Generate(iter(requests.get, DONE), timeout=120)
        try:
            for event in call:
                if event.HasField('token'):
                    call.cancel()
                    break
            for _ in call:
                pass
            return 'NO_TOKEN'
        except grpc.RpcError as e:
            if e.code() == grpc.StatusCode.CANCELLED:
                return 'CANCELLED'
            with lock:
                if len(errors) < 20:
                    errors.append({'code': e.code().name, 'details': e.details()})
            return e.code().name
        finally:
            requests.put(DONE)  # ends the request iterator's thread

    def worker():
        while True:
            with lock:
                if next(counter, None) is None:
                    return
            outcome = one()
            with lock:
                outcomes[outcome] += 1

    began = time.monotonic()
    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return {'streams': streams, 'outcomes': dict(outcomes), 'errors': errors,
            'seconds': time.monotonic() - began, 'ready_transitions': len(ready)}


# ---------------------------------------------------------------- malformed and hostile requests

def generate(**kind):
    return pb.GenerateRequest(**kind)


def start(**fields):
    fields.setdefault('model', MODEL)
    if 'token_ids' not in fields:
        fields.setdefault('text', '([{<=')
    return generate(start=pb.Start(**fields))


def inline(**spec):
    return pb.Steering(inline=pb.ProfileSpec(**spec))


def steer(steering):
    return generate(steer=pb.Steer(steering=steering))


def ack(consumed):
    return generate(ack=pb.Ack(consumed=consumed))


def field(number, payload):
    """One length-delimited protobuf field, for requests the Python protobuf library refuses to build."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def raw_start(text_bytes, extra=b''):
    """GenerateRequest{start: Start{model, text: text_bytes}} with the text's bytes as given."""
    return field(1, field(1, MODEL.encode()) + field(2, text_bytes) + extra)


class Generate:
    """Runs one Generate call: sends the requests (messages or raw bytes), half-closes unless told
    otherwise, reads to the end and reports the status, the fields of any SteeringRejected, the
    finish reason and the text."""

    def __init__(self, channel):
        self.call = channel.stream_stream(
            '/headgate.v1.Generator/Generate',
            request_serializer=lambda m: m if isinstance(m, bytes) else m.SerializeToString(),
            response_deserializer=pb.GenerateEvent.FromString)

    def __call__(self, requests, timeout=60):
        rejected, text, finished = [], [], None
        try:
            for event in self.call(iter(requests), timeout=timeout):
                if event.HasField('steering_rejected'):
                    rejected.append(event.steering_rejected.field + ': ' + event.steering_rejected.reason)
                if event.HasField('token'):
                    text.append(event.token.text)
                if event.HasField('finished'):
                    finished = pb.Finished.Reason.Name(event.finished.reason)
                    text.append(event.finished.text)
            code, details = 'OK', ''
        except grpc.RpcError as e:
            code, details = e.code().name, e.details() or ''
        return {'code': code, 'details': details, 'rejected': rejected, 'finished': finished, 'text': ''.join(text)}


def unary(method, request, metadata=()):
    try:
        method(request, timeout=60, metadata=metadata)
        return {'code': 'OK', 'details': '', 'rejected': []}
    except grpc.RpcError as e:
        return {'code': e.code().name, 'details': e.details() or '', 'rejected': []}


def cases(channel, token):
    """(name, expected status, the field the answer must name, a function making the call)."""
    gen = Generate(channel)
    admin = (('authorization', 'Bearer ' + token),)
    models = rpc.ModelsStub(channel)
    profiles = rpc.ProfilesStub(channel)
    experiments = rpc.ExperimentsStub(channel)
    discovery = rpc.DiscoveryStub(channel)
    INVALID, NOT_FOUND, PRECONDITION = 'INVALID_ARGUMENT', 'NOT_FOUND', 'FAILED_PRECONDITION'
    u32, u64 = 2 ** 32 - 1, 2 ** 64 - 1
    gain = lambda layer, head, g: pb.HeadGain(layer=layer, head=head, gain=g)
    arm = lambda name, profile, weight=1.0: pb.Arm(name=name, profile=profile, weight=weight)
    put_profile = lambda name, spec, meta=admin, expected=0: unary(
        profiles.Put, pb.PutProfileRequest(model=MODEL, name=name, spec=spec, expected_revision=expected), meta)
    put_experiment = lambda *arms: unary(
        experiments.Put, pb.PutExperimentRequest(model=MODEL, name='hostile', spec=pb.ExperimentSpec(arms=list(arms))), admin)
    g = lambda *requests: (lambda: gen(requests))
    return [
        # the request stream: order and shape
        ('an empty request', INVALID, 'request', g(generate())),
        ('a request kind this server does not know (oneof field 9)', INVALID, 'request', g(field(9, b''))),
        ('steer before start', PRECONDITION, 'steer', g(steer(pb.Steering(profile='pag-l1')))),
        ('ack before start', PRECONDITION, 'ack', g(ack(1))),
        ('a second start', PRECONDITION, 'start', g(start(credit_window=1), start())),
        ('half-close before any start', PRECONDITION, 'start', g()),
        # the model and the prompt
        ('no model', INVALID, 'start.model', g(start(model=''))),
        ('an unknown model', NOT_FOUND, 'start.model', g(start(model='gpt-9'))),
        ('a 10,000-character model name', NOT_FOUND, 'start.model', g(start(model='m' * 10000))),
        ('no prompt', INVALID, 'start.prompt', g(generate(start=pb.Start(model=MODEL)))),
        ('an empty text', INVALID, 'start.prompt.text', g(start(text=''))),
        ('characters the tokenizer cannot encode', INVALID, 'start.prompt.text', g(start(text='(x[y'))),
        ('NUL characters', INVALID, 'start.prompt.text', g(start(text='(\x00)'))),
        ('a replacement character U+FFFD', INVALID, 'start.prompt.text', g(start(text='(\ufffd)'))),
        ('a byte-order mark and a right-to-left override', INVALID, 'start.prompt.text', g(start(text='\ufeff(\u202e)'))),
        ('an emoji joined by zero-width joiners', INVALID, 'start.prompt.text', g(start(text='(\U0001F469\u200d\U0001F4BB)'))),
        ('5,000 characters of (', INVALID, 'start.prompt', g(start(text='(' * 5000))),
        ('a 200 KB prompt', INVALID, 'start.prompt', g(start(text='()' * 100000))),
        ('20,000 token ids', INVALID, 'start.prompt', g(start(token_ids=pb.TokenIds(ids=[5] * 20000)))),
        ('empty token ids', INVALID, 'start.prompt.token_ids', g(start(token_ids=pb.TokenIds()))),
        ('a token id past the vocabulary', INVALID, 'start.prompt.token_ids[1]', g(start(token_ids=pb.TokenIds(ids=[1, 23])))),
        ('a negative token id', INVALID, 'start.prompt.token_ids[0]', g(start(token_ids=pb.TokenIds(ids=[-4])))),
        ('the largest int64 token id', INVALID, 'start.prompt.token_ids[0]', g(start(token_ids=pb.TokenIds(ids=[2 ** 63 - 1])))),
        # lengths and sampling
        ('max_tokens past the limit', INVALID, 'start.max_tokens', g(start(max_tokens=100000))),
        ('max_tokens 4294967295', INVALID, 'start.max_tokens', g(start(max_tokens=u32))),
        ('a negative temperature', INVALID, 'start.sampling.temperature', g(start(sampling=pb.Sampling(temperature=-1)))),
        ('a NaN temperature', INVALID, 'start.sampling.temperature', g(start(sampling=pb.Sampling(temperature=math.nan)))),
        ('an infinite temperature', INVALID, 'start.sampling.temperature', g(start(sampling=pb.Sampling(temperature=math.inf)))),
        ('top_p above one', INVALID, 'start.sampling.top_p', g(start(sampling=pb.Sampling(top_p=1.5)))),
        ('a negative top_p', INVALID, 'start.sampling.top_p', g(start(sampling=pb.Sampling(top_p=-0.5)))),
        ('a NaN top_p', INVALID, 'start.sampling.top_p', g(start(sampling=pb.Sampling(top_p=math.nan)))),
        ('an empty stop string', INVALID, 'start.stop[0]', g(start(stop=['']))),
        ('17 stop strings', INVALID, 'start.stop', g(start(stop=[')'] * 17))),
        ('a 300-character stop string', INVALID, 'start.stop[0]', g(start(stop=[')' * 300]))),
        # steering at start
        ('an unknown profile', NOT_FOUND, 'start.steering.profile', g(start(steering=pb.Steering(profile='nope')))),
        ('an unknown revision', NOT_FOUND, 'start.steering.profile', g(start(steering=pb.Steering(profile='pag-l1@999')))),
        ('a malformed revision', INVALID, 'start.steering.profile', g(start(steering=pb.Steering(profile='pag-l1@two')))),
        ('a revision past uint64', INVALID, 'start.steering.profile', g(start(steering=pb.Steering(profile='pag-l1@' + '9' * 30)))),
        ('an empty profile name', INVALID, 'start.steering.profile', g(start(steering=pb.Steering(profile='')))),
        ('an empty steering', INVALID, 'start.steering', g(start(steering=pb.Steering()))),
        ('an inline layer out of range', INVALID, 'start.steering.inline.gains[0].layer', g(start(steering=inline(gains=[gain(4, 0, 1)])))),
        ('an inline head below -1', INVALID, 'start.steering.inline.gains[1].head', g(start(steering=inline(gains=[gain(0, 0, 1), gain(0, -2, 1)])))),
        ('an infinite inline gain', INVALID, 'start.steering.inline.gains[0].gain', g(start(steering=inline(gains=[gain(0, 0, math.inf)])))),
        ('a NaN inline gain', INVALID, 'start.steering.inline.gains[0].gain', g(start(steering=inline(gains=[gain(0, 0, math.nan)])))),
        ('a huge inline gain', INVALID, 'start.steering.inline.gains[0].gain', g(start(steering=inline(gains=[gain(0, 0, 1e30)])))),
        ('an inline bias of the wrong length', INVALID, 'start.steering.inline.biases[0].vector',
         g(start(steering=inline(biases=[pb.HeadBias(layer=0, head=0, vector=[0.5])])))),
        ('an inline mix above one', INVALID, 'start.steering.inline.mixes[0].mix', g(start(steering=inline(mixes=[pb.HeadMix(layer=1, head=1, mix=2)])))),
        ('a NaN inline mix', INVALID, 'start.steering.inline.mixes[0].mix', g(start(steering=inline(mixes=[pb.HeadMix(layer=1, head=1, mix=math.nan)])))),
        ('experiment and steering together', INVALID, 'start.experiment', g(start(experiment='x', steering=pb.Steering(profile='pag-l1')))),
        ('an unknown experiment', NOT_FOUND, 'start.experiment', g(start(experiment='no-such-experiment'))),
        ('a routing key without an experiment', INVALID, 'start.routing_key', g(start(routing_key='user-1'))),
        # a bad Steer mid-stream is answered with SteeringRejected and the stream goes on
        ('a mid-stream Steer to an unknown profile', 'OK', 'steer.steering.profile',
         g(start(credit_window=1), steer(pb.Steering(profile='nope')), ack(100))),
        ('a mid-stream Steer with a bad inline layer', 'OK', 'steer.steering.inline.gains[0].layer',
         g(start(credit_window=1), steer(inline(gains=[gain(9, 0, 1)])), ack(100))),
        ('a mid-stream Steer without steering', 'OK', 'steer.steering',
         g(start(credit_window=1), generate(steer=pb.Steer()), ack(100))),
        # the other services
        ('Models.Describe of an unknown model', NOT_FOUND, 'model', lambda: unary(models.Describe, pb.DescribeModelRequest(model='gpt-9'))),
        ('Profiles.Put without a token', 'UNAUTHENTICATED', 'authorization', lambda: put_profile('p', pb.ProfileSpec(), meta=())),
        ('Profiles.Put with a wrong token', 'UNAUTHENTICATED', 'authorization',
         lambda: put_profile('p', pb.ProfileSpec(), meta=(('authorization', 'Bearer wrong'),))),
        ('Profiles.Put with a bad name', INVALID, 'name', lambda: put_profile('../etc/passwd', pb.ProfileSpec())),
        ('Profiles.Put with a layer out of range', INVALID, 'spec.gains[0].layer', lambda: put_profile('p', pb.ProfileSpec(gains=[gain(7, 0, 1)]))),
        ('Profiles.Put with a stale expected revision', 'ABORTED', 'expected_revision',
         lambda: put_profile('pag-l1', pb.ProfileSpec(), expected=u64)),
        ('Profiles.Get of an unknown profile', NOT_FOUND, 'name',
         lambda: unary(profiles.Get, pb.GetProfileRequest(model=MODEL, name='nope'), admin)),
        ('Experiments.Put with one arm', INVALID, 'spec.arms', lambda: put_experiment(arm('a', 'identity'))),
        ('Experiments.Put with a NaN weight', INVALID, 'spec.arms[1].weight', lambda: put_experiment(arm('a', 'identity'), arm('b', 'pag-l1', math.nan))),
        ('Experiments.Put with an unknown arm profile', NOT_FOUND, 'spec.arms[1].profile', lambda: put_experiment(arm('a', 'identity'), arm('b', 'nope'))),
        ('Experiments.Compare with a huge per_group', INVALID, 'per_group',
         lambda: unary(experiments.Compare, pb.CompareExperimentRequest(model=MODEL, name=EXPERIMENT, per_group=u32), admin)),
        ('Experiments.Compare of an unknown experiment', NOT_FOUND, 'name',
         lambda: unary(experiments.Compare, pb.CompareExperimentRequest(model=MODEL, name='nope'), admin)),
        ('Experiments.Promote of an unknown arm', NOT_FOUND, 'arm',
         lambda: unary(experiments.Promote, pb.PromoteArmRequest(model=MODEL, name=EXPERIMENT, arm='c'), admin)),
        ('a 10,000-character profile name', INVALID, 'start.steering.profile', g(start(steering=pb.Steering(profile='p' * 10000)))),
        ('a 10,000-character experiment name', NOT_FOUND, 'start.experiment', g(start(experiment='x' * 10000))),
        ('Discovery.Evaluate of an unknown probe set', INVALID, 'probe_set',
         lambda: unary(discovery.Evaluate, pb.EvaluateRequest(model=MODEL, probe_set='poetry'))),
        ('Discovery.Evaluate with a huge per_group', INVALID, 'per_group',
         lambda: unary(discovery.Evaluate, pb.EvaluateRequest(model=MODEL, per_group=u32))),
        ('Discovery.Scan of an unknown built-in set', NOT_FOUND, 'builtin',
         lambda: scan(discovery, pb.ScanRequest(model=MODEL, builtin='poetry'))),
        ('Discovery.Scan with a NaN threshold', INVALID, 'sound_threshold',
         lambda: scan(discovery, pb.ScanRequest(model=MODEL, builtin='brackets', sound_threshold=math.nan))),
        ('Discovery.SuggestProfile of an unknown scan', NOT_FOUND, 'scan_id',
         lambda: unary(discovery.SuggestProfile, pb.SuggestProfileRequest(model=MODEL, scan_id='nope', name='p', boost=1.3), admin)),
    ]


def scan(discovery, request):
    try:
        for _ in discovery.Scan(request, timeout=60):
            pass
        return {'code': 'OK', 'details': '', 'rejected': []}
    except grpc.RpcError as e:
        return {'code': e.code().name, 'details': e.details() or '', 'rejected': []}


def accepted(channel):
    """Hostile but valid traffic: each call must end normally with a Finished event."""
    gen = Generate(channel)
    switching = [steer(pb.Steering(profile='pag-l1' if i % 2 else 'identity')) for i in range(2000)]
    return [
        ('2,000 Steer messages in one stream', lambda: gen([start(credit_window=1)] + switching + [ack(10 ** 6)])),
        ('5,000 Ack messages in one stream', lambda: gen([start(credit_window=1)] + [ack(i) for i in range(1, 5001)])),
        ('an Ack of 2^64-1', lambda: gen([start(), ack(2 ** 64 - 1)])),
        ('a credit window of 2^32-1', lambda: gen([start(credit_window=2 ** 32 - 1)])),
        ('an unknown field inside Start', lambda: gen([raw_start(PROMPT.encode(), extra=field(99, b'from the future'))])),
    ]


def run_malformed(channel, token):
    # an experiment for the cases that need one; one left by an earlier run is as good
    experiments = rpc.ExperimentsStub(channel)
    spec = pb.ExperimentSpec(arms=[pb.Arm(name='a', profile='identity', weight=1), pb.Arm(name='b', profile='pag-l1', weight=1)])
    admin = (('authorization', 'Bearer ' + token),)
    made = unary(experiments.Put, pb.PutExperimentRequest(model=MODEL, name=EXPERIMENT, spec=spec), admin)
    if made['code'] not in ('OK', 'ABORTED'):
        raise SystemExit('could not create the experiment: ' + json.dumps(made))
    table = []
    for name, code, field_name, make_call in cases(channel, token):
        result = make_call()
        result.update(name=name, expected_code=code, expected_field=field_name)
        result.pop('text', None)
        table.append(result)
    valid = []
    for name, make_call in accepted(channel):
        result = make_call()
        result['name'] = name
        valid.append(result)
    got = experiments.Get(pb.GetExperimentRequest(model=MODEL, name=EXPERIMENT), metadata=admin, timeout=60)
    experiments.Delete(pb.DeleteExperimentRequest(model=MODEL, name=EXPERIMENT, expected_revision=got.revision),
                       metadata=admin, timeout=60)
    oversize = Generate(channel)([start(text='()' * 500000)])
    normal = Generate(channel)([start(text=PROMPT)])
    return {'cases': table, 'accepted': valid, 'oversize': oversize, 'normal': normal}


if __name__ == '__main__':
    main()
