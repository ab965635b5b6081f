// The console's transport: the gRPC API's messages as JSON over HTTP on the gateway's port.
// Unary methods answer JSON; streaming ones Server-Sent Events read from a fetch() response;
// messages to a running stream (steer, ack, observe, close) are POSTs keyed by its stream id.

const TOKEN_KEY = 'headgate.adminToken';

export const adminToken = {
  get: () => sessionStorage.getItem(TOKEN_KEY) || '',
  set: (value) => value ? sessionStorage.setItem(TOKEN_KEY, value) : sessionStorage.removeItem(TOKEN_KEY),
};

/** A refusal from the API: its gRPC code, message (starting with the field at fault) and HTTP status. */
export class ApiError extends Error {
  constructor(error, httpStatus) {
    super(error?.message || `HTTP ${httpStatus}`);
    this.code = error?.code || 'UNKNOWN';
    this.field = error?.field || '';
    this.httpStatus = httpStatus;
  }
  toString() { return `${this.code}: ${this.message}`; }
}

function headers() {
  const h = { 'Content-Type': 'application/json' };
  const token = adminToken.get();
  if (token) h.Authorization = `Bearer ${token}`;
  return h;
}

async function errorOf(response) {
  try {
    return new ApiError((await response.json()).error, response.status);
  } catch {
    return new ApiError({ code: 'UNKNOWN', message: `HTTP ${response.status}` }, response.status);
  }
}

/** Calls a unary method, e.g. call('Profiles/Put', {...}); rejects with ApiError. */
export async function call(method, request = {}) {
  const response = await fetch(`/api/${method}`, { method: 'POST', headers: headers(), body: JSON.stringify(request) });
  if (!response.ok) throw await errorOf(response);
  return response.json();
}

/**
 * Starts a streaming method. `on` maps event names (started, token, step, progress, ...) to
 * handlers of the event's message; `on.error(ApiError)` gets a refusal or a failure mid-stream and
 * `on.end()` the end of the events. Returns a handle whose send(name, message) posts steer, ack,
 * observe or close to the running stream, and cancel() ends it.
 */
export function stream(method, request, on) {
  const abort = new AbortController();
  let id = null;
  let ended = false;
  const queued = [];
  const handle = {
    get id() { return id; },
    get ended() { return ended; },
    // an ack is quiet: one racing the stream's end is refused (the stream is gone), and that is no error
    async send(name, message = {}) {
      if (ended) return false;
      if (!id) { queued.push([name, message]); return true; }
      const response = await fetch(`/api/streams/${id}/${name}`, { method: 'POST', headers: headers(), body: JSON.stringify(message) });
      if (!response.ok) {
        if (name !== 'ack' && !ended) on.error?.(await errorOf(response));
        return false;
      }
      return true;
    },
    cancel() {
      if (ended) return;
      ended = true;
      abort.abort();
      on.end?.({ cancelled: true });
    },
  };
  (async () => {
    let response;
    try {
      response = await fetch(`/api/${method}`, { method: 'POST', headers: headers(), body: JSON.stringify(request), signal: abort.signal });
    } catch (e) {
      if (!ended) { ended = true; on.error?.(new ApiError({ code: 'UNAVAILABLE', message: String(e) }, 0)); on.end?.({}); }
      return;
    }
    if (!response.ok) {
      ended = true;
      on.error?.(await errorOf(response));
      on.end?.({ failed: true });
      return;
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let cut;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          let name = 'message', data = '';
          for (const line of frame.split('\n')) {
            if (line.startsWith('event: ')) name = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          const message = data ? JSON.parse(data) : {};
          if (name === 'stream') {
            id = message.id;
            for (const [n, m] of queued.splice(0)) handle.send(n, m);
          } else if (name === 'error') {
            on.error?.(new ApiError(message.error, 200));
          } else {
            on[name]?.(message);
          }
        }
      }
    } catch (e) {
      if (!ended) on.error?.(new ApiError({ code: 'UNAVAILABLE', message: String(e) }, 0));
    }
    if (!ended) { ended = true; on.end?.({}); }
  })();
  return handle;
}

/** The models the gateway serves (Models/List). */
export async function models() {
  return (await call('Models/List')).models;
}

/** A profile reference or inline spec as the API's Steering message. */
export function steering(reference, inlineJson) {
  if (inlineJson != null && inlineJson.trim() !== '') return { inline: JSON.parse(inlineJson) };
  return { profile: reference?.trim() || 'identity' };
}

export function tag(t) {
  return t ? `${t.profile}@${t.revision}` : '';
}
