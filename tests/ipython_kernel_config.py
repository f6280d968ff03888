# Kernel config used by `make lab`, `make test` and `make notebooks` (copied into $IPYTHONDIR).
# TensorFlow's C++ layer writes timestamped log lines to the process's stderr; with fd capture
# on, the kernel stores them as cell outputs and nbval sees outputs that differ run to run.
c.IPKernelApp.capture_fd_output = False  # noqa: F821
