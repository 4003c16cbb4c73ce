package dev.sparkprop.optim;

/** RMSprop: {@code s = rho s + (1 - rho) g^2; p -= lr g / (sqrt(s) + eps)}. */
public final class RmsProp implements Optimizer {
  private final float rho;
  private final float eps;
  private float[] meanSquare;
  private long steps;

  public RmsProp(double rho, double eps) {
    if (!(rho >= 0 && rho < 1)) throw new IllegalArgumentException("rmsprop.rho must be in [0, 1), got " + rho);
    if (!(eps > 0)) throw new IllegalArgumentException("eps must be positive, got " + eps);
    this.rho = (float) rho;
    this.eps = (float) eps;
  }

  @Override
  public void step(float[] params, float[] grad, double lr) {
    if (meanSquare == null) meanSquare = new float[params.length];
    steps++;
    float a = (float) lr;
    float[] s = meanSquare;
    for (int i = 0; i < params.length; i++) {
      float g = grad[i];
      s[i] = rho * s[i] + (1f - rho) * g * g;
      params[i] -= a * g / ((float) Math.sqrt(s[i]) + eps);
    }
    Subnormals.flush(s, steps);
  }

  @Override
  public java.util.List<String> stateArrays() {
    return java.util.List.of("mean_square");
  }

  @Override
  public float[][] liveState(int numParams) {
    if (meanSquare == null) meanSquare = new float[numParams];
    return new float[][] {meanSquare};
  }

  @Override
  public long steps() {
    return steps;
  }

  @Override
  public void setSteps(long steps) {
    this.steps = steps;
  }

  @Override
  public OptimizerState state() {
    return new OptimizerState(steps, meanSquare == null ? java.util.Map.of() : java.util.Map.of("mean_square", meanSquare.clone()));
  }

  @Override
  public void restore(OptimizerState state, int numParams) {
    meanSquare = Optimizer.restored(state, "mean_square", numParams);
    steps = state.steps();
  }

  @Override
  public String describe() {
    return "rmsprop(rho=" + rho + ", eps=" + eps + ")";
  }
}
