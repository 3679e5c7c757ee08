"""The lecture's terms in Korean and English, with the neuralab API and the lab of each (용어집).

:data:`TERMS` is the one table; docs/glossary.md is generated from it
(``python -m neuralab.glossary --docs``) and tests/test_glossary.py checks that the page is
current, that every API named here exists (an importable module or attribute) and that every lab
named here is registered.  The Korean terms are the lecture notes' own (the slides, the textbook
chapter, the study notes and the blog that follows *Deep Learning from Scratch*), in the order the
lecture teaches them.

>>> from neuralab.glossary import TERMS
>>> TERMS[0].korean, TERMS[0].english
('인공신경망', 'artificial neural network')
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Term:
    korean: str
    english: str
    #: dotted names below ``neuralab``: modules, classes, functions, methods
    api: tuple[str, ...] = ()
    #: names of registered labs (``neuralab lab list``)
    labs: tuple[str, ...] = ()


def _t(korean: str, english: str, api: str = "", labs: str = "") -> Term:
    return Term(korean, english, tuple(api.split()), tuple(labs.split()))


TERMS: list[Term] = [
    # neurons and networks
    _t("인공신경망", "artificial neural network", "neuralab.nn.Sequential"),
    _t("맥컬록-피츠 뉴런", "McCulloch-Pitts (MCP) neuron", "neuralab.nn.MCPNeuron",
       "perceptron-xor"),
    _t("퍼셉트론", "perceptron", "neuralab.nn.Perceptron", "perceptron-xor"),
    _t("퍼셉트론 학습 규칙", "perceptron learning rule", "neuralab.nn.Perceptron.fit",
       "perceptron-xor"),
    _t("배타적 논리합 (XOR 문제)", "exclusive or (the XOR problem)", "neuralab.data.make_xor",
       "perceptron-xor xor-numpy"),
    _t("단층 신경망의 한계", "limits of a single-layer network", "neuralab.nn.Perceptron",
       "perceptron-xor"),
    _t("다층 퍼셉트론", "multilayer perceptron (MLP)", "neuralab.nn.Sequential neuralab.nn.Dense",
       "perceptron-xor xor-numpy"),
    _t("심층 신경망", "deep neural network (DNN)", "neuralab.nn.Sequential",
       "vanishing-gradients"),
    _t("입력층, 은닉층, 출력층", "input, hidden and output layers", "neuralab.nn.Dense",
       "xor-numpy"),
    _t("밀집층", "dense (fully connected) layer", "neuralab.nn.Dense"),
    _t("가중치", "weight", "neuralab.nn.Parameter neuralab.nn.Module.named_parameters"),
    _t("가중합, 편향", "weighted sum, bias", "neuralab.nn.Dense neuralab.linear"),
    _t("모델 요약", "model summary", "neuralab.nn.Sequential.summary"),
    # activations and outputs
    _t("활성화 함수", "activation function", "neuralab.nn.activations", "activations"),
    _t("계단 함수", "step function", "neuralab.nn.Step neuralab.step", "activations"),
    _t("시그모이드", "sigmoid", "neuralab.nn.Sigmoid neuralab.sigmoid",
       "activations xor-numpy"),
    _t("하이퍼볼릭 탄젠트", "hyperbolic tangent (tanh)", "neuralab.nn.Tanh neuralab.tanh",
       "activations"),
    _t("렐루", "ReLU (rectified linear unit)", "neuralab.nn.ReLU neuralab.relu",
       "activations vanishing-gradients"),
    _t("리키 렐루", "Leaky ReLU", "neuralab.nn.LeakyReLU neuralab.leaky_relu",
       "activations dying-relu"),
    _t("죽은 뉴런 (죽은 렐루)", "dying ReLU, dead units", "neuralab.nn.ReLU neuralab.nn.LeakyReLU",
       "dying-relu"),
    _t("소프트맥스", "softmax", "neuralab.nn.Softmax neuralab.softmax", "activations"),
    _t("출력함수", "output function (identity, sigmoid, softmax by task)",
       "neuralab.nn.Identity neuralab.nn.Sigmoid neuralab.nn.Softmax"),
    _t("이진분류, 다중분류, 회귀", "binary classification, multi-class classification, "
       "regression", "neuralab.train.Trainer", "perceptron-xor wine-quality"),
    # losses
    _t("손실함수, 비용 함수", "loss function, cost function", "neuralab.nn.losses"),
    _t("평균 제곱 오차", "mean squared error (MSE)", "neuralab.nn.MSELoss",
       "xor-numpy wine-quality"),
    _t("이진 교차 엔트로피", "binary cross-entropy",
       "neuralab.nn.BCELoss neuralab.nn.BCEWithLogitsLoss", "perceptron-xor"),
    _t("교차 엔트로피", "cross-entropy", "neuralab.nn.CrossEntropyLoss", "gradient-check"),
    _t("원핫 인코딩", "one-hot encoding", "neuralab.nn.one_hot neuralab.data.OneHotEncoder"),
    # forward and backward
    _t("순전파", "forward propagation", "neuralab.nn.Module.__call__", "xor-numpy"),
    _t("오차 역전파 (오류 역전파)", "backpropagation", "neuralab.Tensor.backward",
       "xor-numpy gradient-check"),
    _t("연쇄법칙", "chain rule", "neuralab.explain_backward", "xor-numpy"),
    _t("편미분", "partial derivative", "neuralab.explain_backward"),
    _t("계산 그래프", "computational graph", "neuralab.graph"),
    _t("기울기 (미분값)", "gradient (derivative)", "neuralab.Tensor.grad",
       "numerical-derivative activations gradient-check"),
    _t("수치 미분", "numerical differentiation",
       "neuralab.numerical_gradient neuralab.gradcheck",
       "numerical-derivative gradient-check xor-numpy"),
    # gradient descent
    _t("경사하강법", "gradient descent", "neuralab.optim.SGD",
       "numerical-derivative gradient-descent xor-numpy"),
    _t("배치 / 확률적 / 미니배치 경사하강법", "batch / stochastic / mini-batch gradient descent",
       "neuralab.data.DataLoader neuralab.optim.SGD", "gradient-descent"),
    _t("에폭, 배치 크기, 반복", "epoch, batch size, iteration (step)",
       "neuralab.train.Trainer.fit neuralab.train.History", "gradient-descent"),
    _t("학습률", "learning rate", "neuralab.optim.SGD", "learning-rate numerical-derivative"),
    _t("학습률 감쇠, 학습률 계획법", "learning-rate decay, learning-rate schedules",
       "neuralab.optim.StepLR neuralab.optim.ExponentialLR neuralab.optim.CosineAnnealingLR "
       "neuralab.optim.ReduceLROnPlateau", "learning-rate"),
    _t("발산", "divergence (too large a learning rate)", "neuralab.train.TerminateOnNaN",
       "learning-rate numerical-derivative"),
    _t("옵티마이저 (최적화 알고리즘)", "optimizer", "neuralab.optim.Optimizer", "optimizers"),
    _t("모멘텀", "momentum", "neuralab.optim.SGD", "optimizers"),
    _t("적응적 학습률", "adaptive learning rate",
       "neuralab.optim.AdaGrad neuralab.optim.RMSProp neuralab.optim.Adam", "optimizers"),
    _t("아담", "Adam", "neuralab.optim.Adam neuralab.optim.AdamW", "optimizers"),
    _t("지역 최솟값, 전역 최솟값", "local minimum, global minimum", "neuralab.optim.SGD",
       "local-minima"),
    _t("안장점, 고원", "saddle point, plateau", "neuralab.optim.SGD neuralab.optim.Adam",
       "local-minima xor-numpy"),
    # initialization and deep networks
    _t("가중치 초기화", "weight initialization", "neuralab.nn.init", "weight-init init-training"),
    _t("제로 초기화", "zero initialization", "neuralab.nn.init.zeros", "weight-init"),
    _t("무작위 초기화", "random initialization",
       "neuralab.nn.init.normal neuralab.nn.init.uniform", "weight-init"),
    _t("세이비어 (글로럿) 초기화", "Xavier (Glorot) initialization",
       "neuralab.nn.init.xavier_normal neuralab.nn.init.xavier_uniform",
       "weight-init init-training"),
    _t("He 초기화", "He initialization", "neuralab.nn.init.he_normal neuralab.nn.init.he_uniform",
       "weight-init init-training"),
    _t("기울기 소실 / 폭발", "vanishing / exploding gradients", "neuralab.train.GradientStats",
       "vanishing-gradients"),
    _t("배치 정규화", "batch normalization", "neuralab.nn.BatchNorm neuralab.nn.BatchNorm2D",
       "batch-norm layer-norm"),
    _t("레이어 정규화 (층 정규화)", "layer normalization", "neuralab.nn.LayerNorm", "layer-norm"),
    _t("잔차 연결", "residual connection", "neuralab.nn.Residual", "batch-norm"),
    # generalization
    _t("과적합", "overfitting", "neuralab.train.History", "overfitting"),
    _t("일반화", "generalization", "neuralab.train.Trainer.evaluate", "overfitting"),
    _t("정규화 (규제): L1 (라쏘), L2 (릿지)", "regularization: L1 (lasso), L2 (ridge)",
       "neuralab.nn.regularizers.L1 neuralab.nn.regularizers.L2", "regularization"),
    _t("가중치 감소", "weight decay", "neuralab.optim.AdamW", "regularization"),
    _t("드롭아웃", "dropout", "neuralab.nn.Dropout", "dropout"),
    _t("조기 종료", "early stopping", "neuralab.train.EarlyStopping", "early-stopping"),
    _t("데이터 증강", "data augmentation",
       "neuralab.data.augment neuralab.data.AugmentedLoader", "augmentation augmentation-cnn"),
    _t("이미지 회전, 확대/축소, 크롭", "image rotation, scaling, cropping",
       "neuralab.data.augment.RandomRotation neuralab.data.augment.RandomZoom "
       "neuralab.data.augment.RandomCrop", "augmentation"),
    _t("밝기, 대비, 채도", "brightness, contrast, saturation",
       "neuralab.data.augment.RandomBrightness neuralab.data.augment.RandomContrast "
       "neuralab.data.augment.RandomSaturation"),
    _t("텍스트 데이터 증강 (유의어 교체, 무작위 삽입, 삭제)",
       "text augmentation (synonym replacement, random insertion, deletion)",
       "neuralab.data.augment.synonym_replacement neuralab.data.augment.random_insertion "
       "neuralab.data.augment.random_deletion"),
    # data and model selection
    _t("입력 정규화 (표준화, 최소-최대 스케일링)",
       "input normalization (standardization, min-max scaling)",
       "neuralab.data.StandardScaler neuralab.data.MinMaxScaler", "input-normalization"),
    _t("훈련 / 검증 / 테스트 데이터", "training / validation / test data",
       "neuralab.data.train_test_split neuralab.data.train_val_test_split",
       "hyperparameter-search"),
    _t("교차 검증", "cross-validation",
       "neuralab.data.KFold neuralab.data.StratifiedKFold neuralab.data.cross_validate",
       "wine-quality"),
    _t("데이터 누수", "data leakage", "neuralab.data.cross_validate", "wine-quality"),
    _t("하이퍼파라미터 탐색", "hyperparameter search",
       "neuralab.train.RandomSearch neuralab.train.GridSearch", "hyperparameter-search"),
    _t("합성곱 신경망", "convolutional neural network (CNN)", "neuralab.nn.Conv2D",
       "cnn-fashion-mnist"),
    _t("풀링", "pooling", "neuralab.nn.MaxPool2D neuralab.nn.AvgPool2D", "cnn-fashion-mnist"),
]

PAGE = Path(__file__).resolve().parents[2] / "docs" / "glossary.md"
COMMAND = "python -m neuralab.glossary --docs"


def _code(names: tuple[str, ...]) -> str:
    return ", ".join(f"`{n.removeprefix('neuralab.')}`" for n in names) or "-"


def _lab_links(names: tuple[str, ...]) -> str:
    return ", ".join(f"[{n}](labs/{n}.md)" for n in names) or "-"


def render_table(terms: list[Term] | None = None) -> str:
    """The glossary as a Markdown table (API names without the leading ``neuralab.``)."""
    rows = ["| 한국어 (Korean) | English | neuralab API | lab |", "|---|---|---|---|"]
    rows += [f"| {t.korean} | {t.english} | {_code(t.api)} | {_lab_links(t.labs)} |"
             for t in (TERMS if terms is None else terms)]
    return "\n".join(rows) + "\n"


def write_page(page: Path = PAGE) -> Path:
    """Regenerate the GLOSSARY block of ``page`` (docs/glossary.md of a checkout) from TERMS."""
    from .io.pages import replace_block

    text = page.read_text(encoding="utf-8")
    page.write_text(replace_block(text, "GLOSSARY", render_table()), encoding="utf-8")
    return page


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m neuralab.glossary",
                                     description="print the glossary (용어집) as Markdown")
    parser.add_argument("--docs", action="store_true",
                        help=f"regenerate the table of {PAGE} instead")
    args = parser.parse_args(argv)
    if args.docs:
        if not PAGE.is_file():
            parser.error(f"{PAGE} not found: --docs updates the page of a neuralab checkout")
        print(f"wrote {write_page()}")
    else:
        sys.stdout.write(render_table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
