package io.headgate.engine.lm;

import io.headgate.engine.StreamEvent;
import io.headgate.steer.SteeringTag;

/** A generated token: its index in the completion, the text it completes, and the steering it was computed under. */
public record TokenEvent(int index, long id, String text, float logprob, SteeringTag steering) implements StreamEvent {
}
