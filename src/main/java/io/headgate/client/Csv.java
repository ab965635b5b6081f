package io.headgate.client;

import io.headgate.client.ClientOptions.UsageException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A numeric column of a CSV file: comma-separated (quotes allowed around a cell), an optional header
 * row (a first row whose chosen cell is not a number), empty, NA or NaN cells as missing values.
 */
final class Csv {
    private Csv() {
    }

    /** @param column a header name, a number from 1, or null for the last column */
    static double[] column(Path file, String column) throws IOException, UsageException {
        List<String> lines = Files.readAllLines(file).stream().filter(l -> !l.isBlank()).toList();
        if (lines.isEmpty()) throw new UsageException(file + ": empty");
        List<String> first = cells(lines.getFirst());
        int index = index(first, column, file);
        boolean header = !number(cell(first, index, file, 1));
        List<Double> values = new ArrayList<>();
        for (int row = header ? 1 : 0; row < lines.size(); row++) {
            String cell = cell(cells(lines.get(row)), index, file, row + 1);
            if (!number(cell)) throw new UsageException(file + " line " + (row + 1) + ": '" + cell + "' is not a number (use NA or leave it empty for a missing value)");
            values.add(missing(cell) ? Double.NaN : Double.parseDouble(cell.strip()));
        }
        if (values.isEmpty()) throw new UsageException(file + ": no values");
        return values.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static int index(List<String> first, String column, Path file) throws UsageException {
        if (column == null) return first.size() - 1;
        if (column.matches("\\d+")) {
            int n = Integer.parseInt(column);
            if (n < 1 || n > first.size()) throw new UsageException("--column " + n + ": " + file + " has " + first.size() + " columns");
            return n - 1;
        }
        int i = first.indexOf(column);
        if (i < 0) throw new UsageException("--column '" + column + "': the header of " + file + " is " + first);
        return i;
    }

    private static String cell(List<String> cells, int index, Path file, int line) throws UsageException {
        if (index >= cells.size()) throw new UsageException(file + " line " + line + ": no column " + (index + 1));
        return cells.get(index);
    }

    private static List<String> cells(String line) {
        return Arrays.stream(line.split(",", -1)).map(c -> {
            String s = c.strip();
            return s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"") ? s.substring(1, s.length() - 1) : s;
        }).toList();
    }

    private static boolean missing(String cell) {
        String s = cell.strip();
        return s.isEmpty() || s.equalsIgnoreCase("NA") || s.equalsIgnoreCase("NaN") || s.equalsIgnoreCase("null");
    }

    private static boolean number(String cell) {
        if (missing(cell)) return true;
        try {
            return Double.isFinite(Double.parseDouble(cell.strip()));
        } catch (NumberFormatException e) {
            return false;
        }
    }
}
