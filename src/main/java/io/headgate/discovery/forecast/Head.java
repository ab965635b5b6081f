package io.headgate.discovery.forecast;

/** One attention head: layer and head index within the layer. */
public record Head(int layer, int head) implements Comparable<Head> {

    /** Position in a row-major [layers, heads] array. */
    public int index(int heads) {
        return layer * heads + head;
    }

    public static Head of(int index, int heads) {
        return new Head(index / heads, index % heads);
    }

    @Override
    public int compareTo(Head o) {
        return layer != o.layer ? Integer.compare(layer, o.layer) : Integer.compare(head, o.head);
    }

    @Override
    public String toString() {
        return "L" + layer + "H" + head;
    }
}
