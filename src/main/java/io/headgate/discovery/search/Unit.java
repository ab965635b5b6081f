package io.headgate.discovery.search;

import java.util.ArrayList;
import java.util.List;

/** What a search selects: one head, or a whole layer (head −1, as in profiles). */
public record Unit(int layer, int head) {

    public static final int WHOLE_LAYER = -1;

    /** Every head of a model with {@code layers} × {@code heads}, layer-major. */
    public static List<Unit> heads(int layers, int heads) {
        List<Unit> out = new ArrayList<>(layers * heads);
        for (int l = 0; l < layers; l++) for (int h = 0; h < heads; h++) out.add(new Unit(l, h));
        return out;
    }

    /** Every whole layer. */
    public static List<Unit> layers(int layers) {
        List<Unit> out = new ArrayList<>(layers);
        for (int l = 0; l < layers; l++) out.add(new Unit(l, WHOLE_LAYER));
        return out;
    }

    @Override
    public String toString() {
        return head == WHOLE_LAYER ? "L" + layer : "L" + layer + "H" + head;
    }
}
