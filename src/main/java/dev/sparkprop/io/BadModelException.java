package dev.sparkprop.io;

/** A saved model or checkpoint that cannot be used; the message names the file and the problem. */
public final class BadModelException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public BadModelException(String message) {
    super(message);
  }
}
