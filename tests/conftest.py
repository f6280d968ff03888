import os

# Quiet TensorFlow's C++ logging in tests and in the notebook kernels nbval starts.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
