"""A real OpenAI-compatible HTTP server for tests, generating with the transformers engine on a tiny model.

    python -m tests.support.openai_server --model DIR [--reward-model DIR] --port 0 [--delay-s S]
        [--garbage {text,no-choices,wrong-count}] [--fail-first K]

Prints its port on stdout once it is ready. Serves /v1/chat/completions (n, temperature, top_p,
max_tokens, seed, repetition_penalty, vLLM's continue_final_message), /v1/models, /tokenize and
/classify in vLLM's pooling response shape. Test modes can also be changed at run time with
POST /control {"delay_s", "garbage", "fail_first"}; GET /stats reports request counts and the
largest number of requests seen in flight at once.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GARBAGE_MODES = ("text", "no-choices", "wrong-count")


class ServerState:
    def __init__(self, args: argparse.Namespace) -> None:
        from backend.config import ModelSpec
        from backend.engines.transformers_engine import TransformersEngine

        self.model_name = args.served_name or args.model
        self.engine = TransformersEngine(ModelSpec(name=args.model, dtype="float32", device="cpu", batch_size=64))
        self.reward = _load_reward(args.reward_model) if args.reward_model else None
        self.model_lock = threading.Lock()  # one generation at a time: torch already uses every core
        self.lock = threading.Lock()
        self.control = {"delay_s": args.delay_s, "garbage": args.garbage, "fail_first": args.fail_first}
        self.stats = {"requests": 0, "in_flight": 0, "max_in_flight": 0}

    def enter(self) -> dict:
        with self.lock:
            self.stats["requests"] += 1
            self.stats["in_flight"] += 1
            self.stats["max_in_flight"] = max(self.stats["max_in_flight"], self.stats["in_flight"])
            control = dict(self.control)
            if self.control["fail_first"] > 0:
                self.control["fail_first"] -= 1
            return control

    def leave(self) -> None:
        with self.lock:
            self.stats["in_flight"] -= 1


def _load_reward(folder: str):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    return tokenizer, model


def first_token_logprobs(state: ServerState, messages: list[dict], prefix: str, k: int) -> list[dict]:
    import torch

    from backend.engines.loading import chat_prompt

    tokenizer, model = state.engine.tokenizer, state.engine.model
    text = chat_prompt(tokenizer, messages) + prefix
    ids = tokenizer(text, return_tensors="pt", add_special_tokens=False)
    with state.model_lock, torch.no_grad():
        logprobs = torch.log_softmax(model(**ids).logits[0, -1].float(), dim=-1)
    values, indices = logprobs.topk(min(k, logprobs.shape[0]))
    return [{"token": tokenizer.decode([int(i)]), "logprob": float(v)} for v, i in zip(values, indices, strict=True)]


def chat_completion(state: ServerState, body: dict) -> dict:
    from backend.config import SamplingConfig
    from backend.engines.base import GenRequest

    messages = list(body["messages"])
    prefix = ""
    if body.get("continue_final_message") and messages and messages[-1]["role"] == "assistant":
        prefix = messages.pop()["content"]
    sampling = SamplingConfig(temperature=float(body.get("temperature", 1.0)), top_p=float(body.get("top_p", 1.0)),
                              max_new_tokens=int(body.get("max_tokens") or 16),
                              repetition_penalty=float(body.get("repetition_penalty", 1.0)), seed=body.get("seed"))
    n = int(body.get("n", 1))
    if n > 1 and sampling.temperature == 0:  # as vLLM answers (HTTP 400)
        raise ValueError("n must be 1 when using greedy sampling")
    with state.model_lock:
        result = state.engine.generate([GenRequest("r", messages, n=n, sampling=sampling, assistant_prefix=prefix)])[0]
    choices = [{"index": i, "message": {"role": "assistant", "content": text}, "finish_reason": "length"}
               for i, text in enumerate(result.texts)]
    if body.get("logprobs"):  # like vLLM: the top tokens of the first generated position
        top = first_token_logprobs(state, messages, prefix, int(body.get("top_logprobs") or 1))
        for choice in choices:
            choice["logprobs"] = {"content": [{"token": top[0]["token"], "logprob": top[0]["logprob"],
                                               "top_logprobs": top}]}
    return {"id": f"chatcmpl-{time.time_ns()}", "object": "chat.completion", "created": int(time.time()),
            "model": state.model_name, "choices": choices,
            "usage": {"prompt_tokens": 0, "completion_tokens": result.tokens, "total_tokens": result.tokens}}


def classify(state: ServerState, body: dict) -> dict:
    import torch

    tokenizer, model = state.reward
    inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
    data = []
    for index, item in enumerate(inputs):
        ids = item if isinstance(item, list) else tokenizer(item, add_special_tokens=False)["input_ids"]
        with state.model_lock, torch.inference_mode():
            logits = model(input_ids=torch.tensor([ids])).logits[0].tolist()
        if body.get("use_activation", True):  # vLLM's default: sigmoid for one label, softmax for more
            logits = [1 / (1 + math.exp(-x)) for x in logits] if len(logits) == 1 else \
                torch.tensor(logits).softmax(-1).tolist()
        data.append({"index": index, "label": "LABEL_0", "probs": logits, "num_classes": len(logits)})
    return {"id": f"classify-{time.time_ns()}", "object": "list", "created": int(time.time()),
            "model": state.model_name, "data": data, "usage": {"prompt_tokens": 0, "total_tokens": 0}}


def tokenize(state: ServerState, body: dict) -> dict:
    tokenizer = state.reward[0] if state.reward else state.engine.tokenizer
    if "messages" in body:
        text = tokenizer.apply_chat_template(body["messages"], tokenize=False,
                                             add_generation_prompt=body.get("add_generation_prompt", True))
    else:
        text = body["prompt"]
    tokens = tokenizer(text, add_special_tokens=False)["input_ids"]
    return {"tokens": tokens, "count": len(tokens), "max_model_len": 1024}


def garbage_reply(mode: str, body: dict) -> tuple[int, bytes]:
    if mode == "text":
        return 200, b"<html>definitely not json"
    if mode == "no-choices":
        return 200, json.dumps({"object": "chat.completion", "data": []}).encode()
    choice = {"index": 0, "message": {"role": "assistant", "content": "only one"}}
    return 200, json.dumps({"choices": [choice] * (int(body.get("n", 1)) + 1)}).encode()


def make_handler(state: ServerState):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # One buffered write per reply (flushed by the base class) and no Nagle delay: otherwise the
        # headers and body go as two small packets and keep-alive clients wait on delayed ACKs.
        wbufsize = -1
        disable_nagle_algorithm = True

        def log_message(self, *args) -> None:  # keep test output quiet
            pass

        def _send(self, status: int, payload: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            if self.path.rstrip("/") == "/v1/models":
                self._send(200, json.dumps({"object": "list", "data": [{"id": state.model_name, "object": "model"}]}).encode())
            elif self.path == "/stats":
                with state.lock:
                    self._send(200, json.dumps(state.stats).encode())
            else:
                self._send(404, b'{"error": "not found"}')

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            path = self.path.rstrip("/").removeprefix("/v1")
            if path == "/control":
                with state.lock:
                    state.control.update(body)
                    if body.get("reset_stats"):
                        state.stats.update(requests=0, max_in_flight=0)
                return self._send(200, b"{}")
            control = state.enter()
            try:
                if control["delay_s"]:
                    time.sleep(control["delay_s"])
                if control["fail_first"] > 0:
                    return self._send(503, b'{"error": "warming up"}')
                if control["garbage"]:
                    return self._send(*garbage_reply(control["garbage"], body))
                handlers = {"/chat/completions": chat_completion, "/classify": classify, "/tokenize": tokenize}
                if path not in handlers:
                    return self._send(404, b'{"error": "not found"}')
                self._send(200, json.dumps(handlers[path](state, body)).encode())
            except (KeyError, ValueError, TypeError) as error:
                self._send(400, json.dumps({"error": f"bad request: {error}"}).encode())
            finally:
                state.leave()

    return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, help="chat model folder served on /v1/chat/completions")
    parser.add_argument("--reward-model", default="", help="reward classifier folder served on /classify")
    parser.add_argument("--served-name", default="", help="model name reported by /v1/models")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay-s", type=float, default=0.0, help="sleep before answering (timeout tests)")
    parser.add_argument("--garbage", nargs="?", const="text", default="", choices=("",) + GARBAGE_MODES,
                        help="answer with malformed bodies")
    parser.add_argument("--fail-first", type=int, default=0, help="answer the first K requests with HTTP 503")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 suits tiny models on a busy machine)")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    server = ThreadingHTTPServer((args.host, args.port), make_handler(ServerState(args)))
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        sys.stdout.flush()


if __name__ == "__main__":
    main()
