package io.headgate.steer;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.random.RandomGenerator;

/**
 * Chooses a stream's arm. With a routing key the choice is sticky: SHA-256 over the experiment's
 * name, a fingerprint of its arms (names, profiles, weights) and the key gives a point in [0, 1),
 * placed on the cumulative normalised weights. The same key keeps its arm while the arms are
 * unchanged; changing them (weights included) reshuffles. An empty key draws uniformly at random.
 */
public final class ArmAssignment {

    private ArmAssignment() {
    }

    public static Arm choose(Experiment experiment, String routingKey) {
        return choose(experiment, routingKey, ThreadLocalRandom.current());
    }

    /** As {@link #choose(Experiment, String)}, an empty key drawing from {@code random}. */
    static Arm choose(Experiment experiment, String routingKey, RandomGenerator random) {
        List<Arm> arms = experiment.spec().arms();
        double point = routingKey == null || routingKey.isEmpty()
                ? random.nextDouble()
                : point(experiment.name(), fingerprint(arms), routingKey);
        return pick(arms, point);
    }

    /** The arm whose cumulative normalised weight interval holds {@code point} in [0, 1). */
    static Arm pick(List<Arm> arms, double point) {
        double total = 0;
        for (Arm arm : arms) total += arm.weight();
        double cumulative = 0;
        for (Arm arm : arms) {
            cumulative += arm.weight() / total;
            if (point < cumulative) return arm;
        }
        return arms.getLast(); // rounding left the top of the range uncovered
    }

    /** Names, profiles and weights, length-prefixed so no two arm lists share one. */
    static String fingerprint(List<Arm> arms) {
        StringBuilder b = new StringBuilder();
        for (Arm arm : arms) {
            b.append(arm.name().length()).append(':').append(arm.name())
                    .append(arm.profile().length()).append(':').append(arm.profile())
                    .append(Double.toString(arm.weight())).append(';');
        }
        return b.toString();
    }

    /** The routing key's point in [0, 1): the top 53 bits of the SHA-256 of the length-prefixed parts. */
    static double point(String experiment, String fingerprint, String key) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        for (String part : new String[] {experiment, fingerprint, key}) {
            byte[] bytes = part.getBytes(StandardCharsets.UTF_8);
            sha.update(ByteBuffer.allocate(4).putInt(bytes.length).array());
            sha.update(bytes);
        }
        long top = ByteBuffer.wrap(sha.digest()).getLong() >>> 11; // 53 bits
        return top / (double) (1L << 53);
    }
}
