import pytest


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    # The test machine's 2 cores are shared; OpenMP's spinning worker threads made CPU
    # inference 5-10x slower under load (measured), so the suite runs torch on one thread.
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
