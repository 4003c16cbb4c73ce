package dev.sparkprop.data;

/** Input data that cannot be used: the message names the file, what was found and what was expected. */
public class BadInputException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public BadInputException(String message) {
    super(message);
  }

  public BadInputException(String message, Throwable cause) {
    super(message, cause);
  }
}
