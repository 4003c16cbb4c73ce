package dev.sparkprop.optim;

/** Plain SGD: {@code p -= lr * g}, Keras' {@code SGD(learning_rate)} without momentum. */
public final class Sgd implements Optimizer {
  @Override
  public void step(float[] params, float[] grad, double lr) {
    float a = (float) lr;
    for (int i = 0; i < params.length; i++) params[i] -= a * grad[i];
  }

  @Override
  public String describe() {
    return "sgd";
  }
}
