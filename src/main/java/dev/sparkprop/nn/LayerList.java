package dev.sparkprop.nn;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The reader of a {@code layers=} layer list ({@link NetworkSpec#parse}): {@code conv(FILTERS,KERNEL[,stride=S][,same|valid])
 * [ACTIVATION]}, {@code pool(SIZE[,STRIDE])} and {@code dense(UNITS) [ACTIVATION]}, separated by
 * commas outside parentheses. Syntax only: whether the layers fit an input is the
 * {@link NetworkSpec} constructor's check. Every refusal names the item and what it expected.
 */
final class LayerList {
  private static final Pattern ITEM = Pattern.compile("\\s*(conv|pool|dense)\\s*\\(([^)]*)\\)\\s*([a-z_]*)\\s*");

  private LayerList() {}

  /** The layers of {@code text}; a layer without an activation takes {@code hidden}, the last one {@code output}. */
  static List<NetworkSpec.Layer> parse(String text, Activation hidden, Activation output) {
    if (text.trim().matches("\\d+")) {
      throw new IllegalArgumentException("layers: need at least an input and an output size, like 784,512,10; got '" + text.trim() + "'");
    }
    if (!text.contains("(")) {
      throw new IllegalArgumentException("layers: expected comma-separated integers like 784,512,10, or a layer list like "
          + "conv(32,3) relu, pool(2), dense(10) softmax; got '" + text.trim() + "'");
    }
    List<String> items = splitTopLevel(text);
    List<NetworkSpec.Layer> out = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      String item = items.get(i);
      Matcher m = ITEM.matcher(item.toLowerCase(Locale.ROOT));
      String where = "layers: cannot read '" + item.trim() + "' (item " + (i + 1) + "): ";
      if (!m.matches()) {
        throw new IllegalArgumentException(where + "expected conv(FILTERS,KERNEL[,stride=S][,same|valid]) [ACTIVATION], "
            + "pool(SIZE[,STRIDE]) or dense(UNITS) [ACTIVATION]");
      }
      boolean lastItem = i == items.size() - 1;
      String[] args = m.group(2).trim().isEmpty() ? new String[0] : m.group(2).trim().split("\\s*,\\s*");
      Activation act = m.group(3).isEmpty() ? (lastItem ? output : hidden) : Activation.parse(m.group(3));
      switch (m.group(1)) {
        case "dense":
          if (args.length != 1) throw new IllegalArgumentException(where + "dense takes one number, the units");
          out.add(new NetworkSpec.Dense(positive(args[0], where), act));
          break;
        case "pool":
          if (args.length < 1 || args.length > 2 || !m.group(3).isEmpty()) {
            throw new IllegalArgumentException(where + "pool takes SIZE[,STRIDE] and no activation");
          }
          int size = positive(args[0], where);
          out.add(new NetworkSpec.Pool(size, args.length == 2 ? positive(args[1], where) : size));
          break;
        default: {
          if (args.length < 2) throw new IllegalArgumentException(where + "conv takes FILTERS,KERNEL first");
          int stride = 1;
          boolean same = false;
          for (int a = 2; a < args.length; a++) {
            if (args[a].equals("same")) {
              same = true;
            } else if (args[a].equals("valid")) {
              same = false;
            } else if (args[a].startsWith("stride=")) {
              stride = positive(args[a].substring(7), where);
            } else {
              throw new IllegalArgumentException(where + "unknown conv option '" + args[a] + "' (stride=S, same or valid)");
            }
          }
          out.add(new NetworkSpec.Conv(positive(args[0], where), positive(args[1], where), stride, same, act));
        }
      }
    }
    return out;
  }

  private static List<String> splitTopLevel(String text) {
    List<String> items = new ArrayList<>();
    int depth = 0;
    int start = 0;
    for (int i = 0; i < text.length(); i++) {
      char ch = text.charAt(i);
      if (ch == '(') depth++;
      if (ch == ')') depth--;
      if (ch == ',' && depth == 0) {
        items.add(text.substring(start, i));
        start = i + 1;
      }
    }
    items.add(text.substring(start));
    return items;
  }

  private static int positive(String s, String where) {
    try {
      int v = Integer.parseInt(s.trim());
      if (v > 0) return v;
    } catch (NumberFormatException e) {
      // below
    }
    throw new IllegalArgumentException(where + "'" + s.trim() + "' is not a positive integer");
  }
}
