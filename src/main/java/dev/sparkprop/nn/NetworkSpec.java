package dev.sparkprop.nn;

import java.io.Serializable;
import java.util.Arrays;

/**
 * The architecture of a dense network and the layout of its parameters in one flat float array.
 *
 * <p>Layer {@code l} maps {@code sizes[l]} inputs to {@code sizes[l+1]} outputs with
 * {@code activations[l]}; the last activation is softmax, fused with the cross-entropy loss.
 * Parameters are laid out as {@code W0, b0, W1, b1, ...} (the notebook's {@code model.weights}
 * order), {@code W_l} row-major with shape {@code (sizes[l], sizes[l+1])}.
 */
public final class NetworkSpec implements Serializable {
  private static final long serialVersionUID = 1L;

  private final int[] sizes;
  private final Activation[] activations;
  private final int[] weightOffsets;
  private final int[] biasOffsets;
  private final int numParams;

  public NetworkSpec(int[] sizes, Activation[] activations) {
    if (sizes.length < 2) {
      throw new IllegalArgumentException(
          "layers: need at least an input and an output size, got " + Arrays.toString(sizes));
    }
    if (activations.length != sizes.length - 1) {
      throw new IllegalArgumentException("need one activation per layer: " + (sizes.length - 1)
          + " layers, " + activations.length + " activations");
    }
    for (int s : sizes) {
      if (s <= 0) throw new IllegalArgumentException("layers: sizes must be positive, got " + Arrays.toString(sizes));
    }
    if (activations[activations.length - 1] != Activation.SOFTMAX) {
      throw new IllegalArgumentException("the output layer must be softmax (it is fused with the "
          + "cross-entropy loss), got " + activations[activations.length - 1].configName());
    }
    this.sizes = sizes.clone();
    this.activations = activations.clone();
    int layers = sizes.length - 1;
    weightOffsets = new int[layers];
    biasOffsets = new int[layers];
    long off = 0;
    for (int l = 0; l < layers; l++) {
      weightOffsets[l] = (int) off;
      off += (long) sizes[l] * sizes[l + 1];
      biasOffsets[l] = (int) off;
      off += sizes[l + 1];
      if (off > Integer.MAX_VALUE - 8) {
        throw new IllegalArgumentException("layers " + Arrays.toString(sizes)
            + " need more than 2^31 parameters; one flat float array cannot hold them");
      }
    }
    numParams = (int) off;
  }

  /** Hidden layers share one activation; the output layer is softmax. */
  public static NetworkSpec of(int[] sizes, Activation hidden) {
    Activation[] acts = new Activation[sizes.length - 1];
    Arrays.fill(acts, hidden);
    if (acts.length > 0) acts[acts.length - 1] = Activation.SOFTMAX;
    return new NetworkSpec(sizes, acts);
  }

  public int numLayers() {
    return sizes.length - 1;
  }

  public int inputSize() {
    return sizes[0];
  }

  public int outputSize() {
    return sizes[sizes.length - 1];
  }

  /** Inputs of layer l. */
  public int in(int l) {
    return sizes[l];
  }

  /** Outputs of layer l. */
  public int out(int l) {
    return sizes[l + 1];
  }

  public Activation activation(int l) {
    return activations[l];
  }

  public int weightOffset(int l) {
    return weightOffsets[l];
  }

  public int biasOffset(int l) {
    return biasOffsets[l];
  }

  public int numParams() {
    return numParams;
  }

  /** The widest layer output, for sizing workspaces. */
  public int maxWidth() {
    int m = 0;
    for (int s : sizes) m = Math.max(m, s);
    return m;
  }

  public int[] sizes() {
    return sizes.clone();
  }

  /** E.g. {@code 784-512(relu)-10(softmax)}. */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder().append(sizes[0]);
    for (int l = 0; l < numLayers(); l++) {
      sb.append('-').append(sizes[l + 1]).append('(').append(activations[l].configName()).append(')');
    }
    return sb.toString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof NetworkSpec s
        && Arrays.equals(sizes, s.sizes) && Arrays.equals(activations, s.activations);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(sizes) + Arrays.hashCode(activations);
  }
}
