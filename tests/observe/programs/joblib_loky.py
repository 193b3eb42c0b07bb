from _work import spin
from joblib import Parallel, delayed

if __name__ == "__main__":
    Parallel(n_jobs=2, backend="loky")(delayed(spin)(40) for _ in range(40))
