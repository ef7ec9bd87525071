"""
CIFAR-10 on a GPU: pruning and distillation with augmentation
=============================================================

The full-scale recipe: CIFAR-10 through torchvision, random crops and flips, a
ResNet-56 teacher fitted on all 50,000 training images, EL2N pruning to 30%,
and a ResNet-20 student distilled from the teacher. It needs the data on disk
(``download=True`` fetches it once) and a GPU; it is not run when the
documentation is built.

Two details matter with augmentation. Scores are computed on the
*unaugmented* images (the arrays), once. The student trains on an augmented
``Dataset``, so its teacher is run on every batch, on exactly the augmented
images the student sees (``cache_teacher="auto"`` does this for Datasets);
caching teacher outputs computed on unaugmented images would give stale
targets.
"""

# %%
import numpy as np
import torch
from skorch.callbacks import LRScheduler
from torch.utils.data import Subset

from prunekd import DistillationClassifier, EL2NPruner
from prunekd.datasets import load_torchvision_arrays, load_torchvision_dataset
from prunekd.models import ResNetCIFAR, resnet20

ROOT, DEVICE = "data", "cuda" if torch.cuda.is_available() else "cpu"
train_aug = load_torchvision_dataset("cifar10", ROOT, "train", download=True)  # crop + flip
test = load_torchvision_dataset("cifar10", ROOT, "test")
X_train, y_train = load_torchvision_arrays("cifar10", ROOT, "train")  # unaugmented, for scoring


def net(module, epochs, **kwargs):
    return DistillationClassifier(
        module, module__n_classes=10, optimizer=torch.optim.SGD, lr=0.1,
        optimizer__momentum=0.9, optimizer__weight_decay=5e-4, optimizer__nesterov=True,
        batch_size=128, max_epochs=epochs, device=DEVICE, random_state=0,
        mixed_precision=DEVICE == "cuda",  # bfloat16 autocast on the GPU's tensor cores
        iterator_train__num_workers=4, iterator_valid__num_workers=4,
        callbacks=[("lr", LRScheduler("CosineAnnealingLR", T_max=epochs))], **kwargs,
    )


# %%
# 1. The teacher: ResNet-56 on all of the (augmented) training data
teacher = net(ResNetCIFAR, 200, module__depth=56, alpha=0.0).fit(train_aug)
print("teacher test accuracy", teacher.score(test, np.array(test.targets)))

# %%
# 2. EL2N scores from proxies trained 20 epochs, on the unaugmented arrays; keep 30%
pruner = EL2NPruner(fraction=0.3, estimator=resnet20(), n_proxies=4, max_epochs=20,
                    batch_size=256, lr=1e-3, device=DEVICE, mixed_precision=DEVICE == "cuda",
                    random_state=0)
kept = pruner.fit_transform(X_train, y_train)

# %%
# 3. The student: ResNet-20 on the kept 30%, augmented, distilled on the fly
student = net(ResNetCIFAR, 200, module__depth=20, teacher=teacher, alpha=0.5)
student.fit(Subset(train_aug, kept))
print("student test accuracy", student.score(test, np.array(test.targets)))
