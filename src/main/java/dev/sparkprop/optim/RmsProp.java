package dev.sparkprop.optim;

/** RMSprop: {@code s = rho s + (1 - rho) g^2; p -= lr g / (sqrt(s) + eps)}. */
public final class RmsProp extends Optimizer {
  private final float rho;
  private final float eps;

  public RmsProp(double rho, double eps) {
    super("mean_square");
    if (!(rho >= 0 && rho < 1)) throw new IllegalArgumentException("rmsprop.rho must be in [0, 1), got " + rho);
    if (!(eps > 0)) throw new IllegalArgumentException("eps must be positive, got " + eps);
    this.rho = (float) rho;
    this.eps = (float) eps;
  }

  @Override
  protected void update(float[] params, float[] grad, double lr, float[][] state, long t) {
    float a = (float) lr;
    float[] s = state[0];
    for (int i = 0; i < params.length; i++) {
      float g = grad[i];
      s[i] = rho * s[i] + (1f - rho) * g * g;
      params[i] -= a * g / ((float) Math.sqrt(s[i]) + eps);
    }
  }

  @Override
  public String describe() {
    return "rmsprop(rho=" + rho + ", eps=" + eps + ")";
  }
}
