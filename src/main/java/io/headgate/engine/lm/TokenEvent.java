package io.headgate.engine.lm;

import io.headgate.steer.SteeringTag;

/**
 * A generated token: its index in the completion, the text it completes, the steering it was
 * computed under, and (for streams that asked for a shadow baseline) the intervention's effect.
 */
public record TokenEvent(int index, long id, String text, float logprob, SteeringTag steering, Effect effect) {
}
