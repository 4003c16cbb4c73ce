package dev.sparkprop.train;

/** The loss or gradient became NaN or infinite: training cannot go on from here. */
public final class DivergenceException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public DivergenceException(String message) {
    super(message);
  }
}
