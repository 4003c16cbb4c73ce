/**
 * The saved model: {@code model.json} and its npy arrays ({@code SavedModel}, {@code ModelStore},
 * {@code Npy}), the ONNX export, versions. Through Hadoop's file system (any URI), no Spark job.
 * May import {@code nn}, {@code data}.
 */
package dev.sparkprop.io;
