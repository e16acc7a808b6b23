"""attribute_tokens against independent references on tiny models of eight architectures: Captum's completeness,
a plain forward + softmax, occlusion and gradient × input computed by hand; the CLI against the Python result."""

from __future__ import annotations

import dataclasses
import json
import threading
from functools import cache

import pytest
import torch
from test_fill_mask import reference
from tiny_models import MULTI_PIECE_WORD, SENTENCES, SINGLE_PIECE_WORD
from torch import nn
from transformers import AutoModelForMaskedLM, AutoTokenizer

from explorer import InputError, TokenAttribution, attribute_tokens, load_model, predict_masks
from explorer.attribution import convergence_warning, find_embeddings, private_float32_model
from explorer.cli import main
from explorer.documents import attribution_document
from explorer.encoding import encode
from explorer.errors import ExplorerError
from explorer.forward import run_forward

ONE_MASK = "paris is the [MASK] of france."
TWO_MASKS = next(s for s in SENTENCES if s.count("[MASK]") == 2)
COMPLETENESS = 1e-3  # relative, at 50 steps


@cache
def independent(path: str) -> tuple[nn.Module, object]:
    """The same checkpoint loaded by transformers itself: a separate module, float32, eager attention."""
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForMaskedLM.from_pretrained(path, attn_implementation="eager").eval()
    return model, tokenizer


def ids_of(path: str, sentence: str) -> tuple[list[int], list[int], list[int]]:
    """(input ids, baseline ids with every non-special token masked, mask positions), by the tokenizer alone."""
    _, tokenizer = independent(path)
    ids = tokenizer(sentence.replace("[MASK]", tokenizer.mask_token))["input_ids"]
    special = tokenizer.get_special_tokens_mask(ids, already_has_special_tokens=True)
    baseline = [i if keep else tokenizer.mask_token_id for i, keep in zip(ids, special, strict=True)]
    return ids, baseline, [p for p, i in enumerate(ids) if i == tokenizer.mask_token_id]


def logits_at(path: str, batch: list[list[int]], position: int) -> torch.Tensor:
    """Plain forward of the independent model: logits at `position` [batch, vocab]."""
    model, _ = independent(path)
    with torch.no_grad():
        return model(input_ids=torch.tensor(batch)).logits[:, position].float()


def score(logits: torch.Tensor, attributed: str, target: int, contrast: int | None = None) -> torch.Tensor:
    if attributed == "probability":
        return logits.softmax(-1)[:, target]
    if attributed == "logit":
        return logits[:, target]
    return logits[:, target] - logits[:, contrast]


def assert_complete(result: TokenAttribution) -> None:
    change = result.score_input - result.score_baseline
    assert abs(change) > 1e-6, "f(x) = f(x'): the check would be empty"
    assert abs(result.total - change) <= COMPLETENESS * abs(change)
    assert abs(result.delta) <= COMPLETENESS * abs(change)
    assert result.delta == pytest.approx(result.total - change, abs=1e-4 * abs(change))


@pytest.mark.parametrize("attributed", ["probability", "logit"])
def test_integrated_gradients_complete_and_scored_exactly(tiny_model_dir, attributed):
    path = str(tiny_model_dir)
    model = load_model(path)
    result = attribute_tokens(model, ONE_MASK, attributed=attributed, n_steps=50)
    assert_complete(result)
    ids, baseline, (position,) = ids_of(path, ONE_MASK)
    assert list(result.token_ids) == ids and result.mask_position == position
    assert len(result.scores) == len(result.tokens) == len(ids)
    logits = logits_at(path, [ids, baseline], position)  # [2, vocab]
    assert result.target.token_id == int(logits[0].argmax())
    assert result.target.probability == pytest.approx(float(logits[0].softmax(-1)[result.target.token_id]), rel=1e-5)
    expected = score(logits, attributed, result.target.token_id)
    assert result.score_input == pytest.approx(float(expected[0]), rel=1e-5, abs=1e-7)
    assert result.score_baseline == pytest.approx(float(expected[1]), rel=1e-5, abs=1e-7)
    # Tokens equal in input and baseline (specials, the mask) lie on no path: exactly 0.
    for s, a, b in zip(result.scores, ids, baseline, strict=True):
        if a == b:
            assert s == 0.0
    assert result.attributed == attributed and result.method == "ig" and result.steps == 50
    assert model.tokenizer.mask_token in result.baseline
    assert convergence_warning(result) is None


def test_default_target_is_the_pipeline_top1(tiny_model_dir):
    path = str(tiny_model_dir)
    model = load_model(path)
    result = attribute_tokens(model, ONE_MASK, method="grad-x-input")
    (top,) = reference(path)(ONE_MASK.replace("[MASK]", model.tokenizer.mask_token), top_k=1)
    assert result.target.token_id == top["token"]
    assert result.target.token == top["token_str"]
    assert result.target.probability == pytest.approx(top["score"], abs=1e-6)
    assert result.score_input == pytest.approx(top["score"], abs=1e-6)


def test_second_mask_and_the_other_mask_scores_zero(tiny_model_dirs):
    path = str(tiny_model_dirs["roberta"])
    result = attribute_tokens(load_model(path), TWO_MASKS, mask=1)
    ids, baseline, positions = ids_of(path, TWO_MASKS)
    assert result.mask_position == positions[1] and result.mask_index == 1
    assert result.scores[positions[0]] == 0.0 and result.scores[positions[1]] == 0.0
    assert_complete(result)
    logits = logits_at(path, [ids], positions[1])
    assert result.score_input == pytest.approx(float(logits.softmax(-1)[0, result.target.token_id]), rel=1e-5)


def test_occlusion_matches_hand_computation(tiny_model_dir):
    path = str(tiny_model_dir)
    model = load_model(path)
    result = attribute_tokens(model, ONE_MASK, method="occlusion", attributed="logit", internal_batch_size=3)
    ids, baseline, (position,) = ids_of(path, ONE_MASK)
    target = result.target.token_id
    occluded = []
    for pos in range(len(ids)):
        copy = list(ids)
        copy[pos] = baseline[pos]  # the mask token, or the special token itself
        occluded.append(copy)
    scores = score(logits_at(path, [ids, *occluded], position), "logit", target)  # [1 + pos]
    expected = (scores[0] - scores[1:]).tolist()
    assert result.scores == pytest.approx(expected, abs=1e-5)
    assert result.delta is None and result.steps is None and result.method == "occlusion"
    assert result.score_baseline == pytest.approx(float(score(logits_at(path, [baseline], position), "logit",
                                                              target)[0]), abs=1e-5)


def test_grad_x_input_matches_hand_computation(tiny_model_dirs):
    path = str(tiny_model_dirs["deberta-v2"])
    result = attribute_tokens(load_model(path), ONE_MASK, method="grad-x-input")
    model, _ = independent(path)
    ids, _, (position,) = ids_of(path, ONE_MASK)
    kept = {}

    def keep(module, args, output):
        output.retain_grad()
        kept["embeddings"] = output

    handle = model.base_model.embeddings.register_forward_hook(keep)
    try:
        logits = model(input_ids=torch.tensor([ids])).logits[:, position]
        logits.softmax(-1)[0, result.target.token_id].backward()
    finally:
        handle.remove()
        model.zero_grad(set_to_none=True)
    expected = (kept["embeddings"].grad * kept["embeddings"]).sum(-1)[0]  # [pos]
    assert result.scores == pytest.approx(expected.tolist(), abs=1e-7, rel=1e-4)
    assert result.delta is None and result.steps is None


@pytest.mark.parametrize("arch", ["bert", "xlm-roberta", "modernbert"])
def test_contrast_is_a_complete_logit_difference(tiny_model_dirs, arch):
    path = str(tiny_model_dirs[arch])
    model = load_model(path)
    top = predict_masks(model, ONE_MASK, top_k=2).masks[0].predictions
    target, contrast = top[0].token_id, top[1].token_id
    result = attribute_tokens(model, ONE_MASK, target=target, contrast=contrast)
    assert result.attributed == "logit_difference" and result.contrast.token_id == contrast
    assert_complete(result)
    ids, baseline, (position,) = ids_of(path, ONE_MASK)
    expected = score(logits_at(path, [ids, baseline], position), "logit_difference", target, contrast)
    assert result.score_input == pytest.approx(float(expected[0]), abs=1e-5)
    assert result.score_baseline == pytest.approx(float(expected[1]), abs=1e-5)
    assert result.contrast.probability == pytest.approx(top[1].score, abs=1e-6)
    # Integrated gradients are linear in f: the difference's attributions are the difference of attributions.
    first = attribute_tokens(model, ONE_MASK, target=target, attributed="logit")
    second = attribute_tokens(model, ONE_MASK, target=contrast, attributed="logit")
    difference = [a - b for a, b in zip(first.scores, second.scores, strict=True)]
    assert result.scores == pytest.approx(difference, abs=1e-5)
    assert "−" in result.score_label


def test_target_word_equals_its_token_id(tiny_model_dirs):
    model = load_model(str(tiny_model_dirs["xlm-roberta"]))
    by_word = attribute_tokens(model, ONE_MASK, target=SINGLE_PIECE_WORD, method="occlusion")
    token_id = model.tokenizer.convert_tokens_to_ids("▁" + SINGLE_PIECE_WORD)
    by_id = attribute_tokens(model, ONE_MASK, target=token_id, method="occlusion")
    assert by_word.target.token_id == token_id and by_word.target.piece == "▁" + SINGLE_PIECE_WORD
    assert by_word == by_id


def test_batches_and_progress_do_not_change_the_result(tiny_model_dirs):
    model = load_model(str(tiny_model_dirs["albert"]))
    fractions: list[float] = []
    one = attribute_tokens(model, ONE_MASK, n_steps=20, internal_batch_size=1, progress=fractions.append)
    every = attribute_tokens(model, ONE_MASK, n_steps=20, internal_batch_size=64)
    assert one.scores == pytest.approx(every.scores, abs=1e-7)
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(fractions) > 20
    assert all(0.0 <= f <= 1.0 for f in fractions)


def test_more_steps_converge(tiny_model_dirs):
    model = load_model(str(tiny_model_dirs["bert"]))
    deltas = [abs(attribute_tokens(model, ONE_MASK, n_steps=n, attributed="logit").delta) for n in (1, 50)]
    assert deltas[1] < deltas[0]


def test_no_state_leaks_into_the_shared_model(tiny_model_dirs):
    model = load_model(str(tiny_model_dirs["electra"]))
    module = model.model
    module.generator_predictions.dense.weight.requires_grad_(False)  # a mix, to see both kept
    try:
        flags = {name: p.requires_grad for name, p in module.named_parameters()}
        values = {name: p.detach().clone() for name, p in module.named_parameters()}
        encoding = encode(model, ONE_MASK)
        before = run_forward(model, encoding, attentions=True)
        # After a first forward: transformers installs its own output-capturing hooks on the first one.
        hooks = [(len(m._forward_hooks), len(m._forward_pre_hooks), len(m._backward_hooks)) for m in module.modules()]
        for method in ("ig", "grad-x-input", "occlusion"):
            attribute_tokens(model, ONE_MASK, method=method, n_steps=8)
        after = run_forward(model, encoding, attentions=True)
        assert torch.equal(before.mask_logits, after.mask_logits)
        assert torch.equal(before.attentions, after.attentions)
        assert flags == {name: p.requires_grad for name, p in module.named_parameters()}
        assert all(torch.equal(values[name], p) for name, p in module.named_parameters())
        assert all(p.grad is None for p in module.parameters())
        assert hooks == [(len(m._forward_hooks), len(m._forward_pre_hooks), len(m._backward_hooks))
                         for m in module.modules()]
        assert not module.training
    finally:
        module.generator_predictions.dense.weight.requires_grad_(True)


@pytest.mark.parametrize("dtype", [None, "bfloat16"])
def test_private_model_shares_float32_weights_and_tracks_no_gradients(tiny_model_dirs, dtype):
    model = load_model(str(tiny_model_dirs["bert"]), dtype=dtype, cache=False).model
    with torch.no_grad():
        private = private_float32_model(model)
    assert private is not model and private.base_model.embeddings is not model.base_model.embeddings
    for (name, p), (other, q) in zip(model.named_parameters(), private.named_parameters(), strict=True):
        assert name == other and q is not p and p.requires_grad and not q.requires_grad
        assert q.dtype == torch.float32 and torch.equal(q, p.float())
        assert (q.data_ptr() == p.data_ptr()) == (dtype is None)  # float32 weights are shared, not copied
    assert private.get_output_embeddings().weight is private.get_input_embeddings().weight  # ties kept


def test_inside_inference_mode(tiny_model_dirs):
    model = load_model(str(tiny_model_dirs["distilbert"]))
    with torch.inference_mode():
        result = attribute_tokens(model, ONE_MASK, n_steps=50)
    assert_complete(result)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_half_precision_model_is_attributed_in_float32(tiny_model_dirs, dtype):
    path = str(tiny_model_dirs["bert"])
    model = load_model(path, dtype=dtype, cache=False)
    values = {name: p.detach().clone() for name, p in model.model.named_parameters()}
    result = attribute_tokens(model, ONE_MASK, attributed="logit")
    assert_complete(result)
    assert all(p.dtype == getattr(torch, dtype) and torch.equal(values[n], p)
               for n, p in model.model.named_parameters())
    # The reference: the same half-precision weights, upcast, run in float32.
    ids, baseline, (position,) = ids_of(path, ONE_MASK)
    reference_model = AutoModelForMaskedLM.from_pretrained(path, attn_implementation="eager").eval()
    half = dict(model.model.named_parameters())
    with torch.no_grad():
        for name, p in reference_model.named_parameters():
            p.copy_(half[name].float())
        logits = reference_model(input_ids=torch.tensor([ids, baseline])).logits[:, position]  # [2, vocab]
    assert result.score_input == pytest.approx(float(logits[0, result.target.token_id]), abs=1e-4)
    assert result.score_baseline == pytest.approx(float(logits[1, result.target.token_id]), abs=1e-4)


def test_concurrent_requests_on_the_shared_model(tiny_model_dirs):
    model = load_model(str(tiny_model_dirs["roberta"]))
    alone_attribution = attribute_tokens(model, ONE_MASK, n_steps=16)
    alone_prediction = predict_masks(model, TWO_MASKS, top_k=5)
    failures: list[BaseException] = []
    results: dict[str, list] = {"attribution": [], "prediction": []}

    def attribute() -> None:
        try:
            for _ in range(4):
                results["attribution"].append(attribute_tokens(model, ONE_MASK, n_steps=16))
        except BaseException as error:  # reported by the main thread
            failures.append(error)

    def predict() -> None:
        try:
            for _ in range(40):
                results["prediction"].append(predict_masks(model, TWO_MASKS, top_k=5))
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=attribute), threading.Thread(target=predict)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    for prediction in results["prediction"]:
        assert [p.token_id for m in prediction.masks for p in m.predictions] == \
            [p.token_id for m in alone_prediction.masks for p in m.predictions]
        for ours, alone in zip(prediction.masks, alone_prediction.masks, strict=True):
            assert [p.score for p in ours.predictions] == pytest.approx([p.score for p in alone.predictions],
                                                                        abs=1e-6)
    for attribution in results["attribution"]:
        assert attribution.scores == pytest.approx(alone_attribution.scores, abs=1e-7)


def test_finds_the_embedding_block_of_every_architecture(tiny_model_dir):
    model = load_model(str(tiny_model_dir))
    block = find_embeddings(model.model)
    assert type(block).__name__.endswith("Embeddings")
    assert block is model.model.base_model.embeddings

    class FancyEmbeddings(nn.Module):
        pass

    class Base(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = FancyEmbeddings()
            self.rotary = nn.Linear(1, 1)

    base = Base()
    assert find_embeddings(base) is base.embed
    with pytest.raises(ExplorerError, match="no single embeddings block"):
        find_embeddings(nn.Sequential(nn.Linear(1, 1)))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mask": 1}, "mask must be 0"),
        ({"mask": -1}, "mask must be 0"),
        ({"target": MULTI_PIECE_WORD["bert"]}, "pieces"),
        ({"target": 10**9}, "outside the vocabulary"),
        ({"target": True}, "a word or a token id"),
        ({"target": "cat", "contrast": "cat"}, "contrast is the target itself"),
        ({"contrast": MULTI_PIECE_WORD["bert"]}, "pieces"),
        ({"method": "shap"}, "Unknown attribution method"),
        ({"n_steps": 0}, "n_steps must be"),
        ({"n_steps": 2.5}, "n_steps must be"),
        ({"internal_batch_size": 0}, "internal_batch_size must be"),
        ({"attributed": "entropy"}, "Unknown attributed score"),
        ({"attributed": "logit_difference"}, "needs a contrast"),
    ],
)
def test_bad_input_raises_input_error(tiny_model_dirs, kwargs, message):
    model = load_model(str(tiny_model_dirs["bert"]))
    with pytest.raises(InputError, match=message):
        attribute_tokens(model, ONE_MASK, **kwargs)


def test_text_without_mask_raises_input_error(tiny_model_dirs):
    with pytest.raises(InputError, match="No \\[MASK\\]"):
        attribute_tokens(load_model(str(tiny_model_dirs["bert"])), "the cat sat.")


def test_convergence_warning_suggests_more_steps(tiny_model_dirs):
    result = attribute_tokens(load_model(str(tiny_model_dirs["bert"])), ONE_MASK, n_steps=50)
    assert convergence_warning(result) is None
    off = dataclasses.replace(result, delta=0.2 * result.change, steps=8)
    message = convergence_warning(off)
    assert message is not None and "20%" in message and "Try 100" in message
    assert convergence_warning(dataclasses.replace(result, delta=None, method="occlusion")) is None


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize(("arch", "extra"), [
    ("bert", []),
    ("roberta", ["--contrast", SINGLE_PIECE_WORD]),
    ("roberta", ["--method", "occlusion", "--target", SINGLE_PIECE_WORD]),
    ("modernbert", ["--method", "grad-x-input", "--contrast", SINGLE_PIECE_WORD]),
])
def test_cli_json_equals_the_python_result(tiny_model_dirs, capsys, arch, extra):
    path = str(tiny_model_dirs[arch])
    status, out, err = run_cli(capsys, "attribute", "--model", path, "--steps", "20", "--json", *extra, TWO_MASKS)
    assert status == 0, err
    document = json.loads(out)
    options = dict(zip(extra[::2], extra[1::2], strict=True))
    result = attribute_tokens(load_model(path), TWO_MASKS, n_steps=20, method=options.get("--method", "ig"),
                              target=options.get("--target"), contrast=options.get("--contrast"))
    assert document == json.loads(json.dumps(attribution_document(result)))
    keys = {"model", "tokens", "mask_position", "target", "attributed", "score_input", "score_baseline",
            "attributions", "delta", "method", "steps"}
    assert set(document) == keys | ({"contrast"} if "--contrast" in extra else set())
    assert set(document["target"]) == {"token_id", "token", "probability"}
    assert document["model"] == path and len(document["attributions"]) == len(document["tokens"])
    assert (document["delta"] is None) == (document["steps"] is None) == ("--method" in extra)
    assert document["attributed"] == ("logit_difference" if "--contrast" in extra else "probability")


def test_cli_mask_target_id_and_table(tiny_model_dirs, capsys):
    path = str(tiny_model_dirs["bert"])
    model = load_model(path)
    token_id = model.tokenizer.convert_tokens_to_ids(SINGLE_PIECE_WORD)
    status, out, _ = run_cli(capsys, "attribute", "--model", path, "--mask", "1", "--target-id", str(token_id),
                             "--json", TWO_MASKS)
    assert status == 0
    document = json.loads(out)
    assert document["mask_position"] == encode(model, TWO_MASKS).mask_positions[1]
    assert document["target"]["token_id"] == token_id and document["target"]["token"] == SINGLE_PIECE_WORD
    status, out, _ = run_cli(capsys, "attribute", "--model", path, "--attributed", "logit", ONE_MASK)
    assert status == 0
    assert "integrated gradients of logit(" in out and "<- mask" in out and "delta =" in out
    assert " paris " in out and "f(x') =" in out


def test_cli_warns_when_steps_are_too_few(tiny_model_dirs, capsys):
    status, out, err = run_cli(capsys, "attribute", "--model", str(tiny_model_dirs["deberta-v2"]), "--steps", "1",
                               "--attributed", "logit", "--json", ONE_MASK)
    assert status == 0
    document = json.loads(out)
    relative = abs(document["delta"]) / abs(document["score_input"] - document["score_baseline"])
    assert ("warning" in err and "more steps" in err) == (relative > 0.01)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--mask", "3", ONE_MASK], "the text has 1 mask(s); give 0 to 0"),
        (["--target", "sunflower", ONE_MASK], "pieces"),
        (["--method", "lime", ONE_MASK], "is not one of ig, grad-x-input, occlusion"),
        (["--steps", "0", ONE_MASK], "--steps must be at least 1"),
        (["the cat sat."], "No [MASK] in the text"),
    ],
)
def test_cli_bad_input_exits_2(tiny_model_dirs, capsys, argv, message):
    status, out, err = run_cli(capsys, "attribute", "--model", str(tiny_model_dirs["bert"]), *argv)
    assert status == 2
    assert out == ""
    assert message in err and "Traceback" not in err
