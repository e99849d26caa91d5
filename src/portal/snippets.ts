/**
 * "How to verify" for each language, with that language's Standard Webhooks library: the receiver
 * checks webhook-id, webhook-timestamp and webhook-signature against the raw body before trusting it.
 */
export function verifySnippets(secret: string): { language: string; install: string; code: string }[] {
  return [
    {
      language: 'Node.js',
      install: 'npm install standardwebhooks',
      code: `import { Webhook } from 'standardwebhooks';

const wh = new Webhook(process.env.WEBHOOK_SECRET); // ${secret}

// Use the raw request body, exactly as received.
app.post('/webhooks', express.raw({ type: 'application/json' }), (req, res) => {
  try {
    const event = wh.verify(req.body.toString('utf8'), req.headers);
    // handle event.type / event.data
    res.sendStatus(204);
  } catch {
    res.sendStatus(400);
  }
});`,
    },
    {
      language: 'Python',
      install: 'pip install standardwebhooks',
      code: `from standardwebhooks.webhooks import Webhook

wh = Webhook(os.environ["WEBHOOK_SECRET"])  # ${secret}

@app.post("/webhooks")
def webhooks():
    try:
        event = wh.verify(request.get_data(), dict(request.headers))
    except Exception:
        return "", 400
    # handle event["type"] / event["data"]
    return "", 204`,
    },
    {
      language: 'Go',
      install: 'go get github.com/standard-webhooks/standard-webhooks/libraries/go',
      code: `import standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

wh, _ := standardwebhooks.NewWebhook(os.Getenv("WEBHOOK_SECRET")) // ${secret}

func handler(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := wh.Verify(body, r.Header); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	// json.Unmarshal(body, &event)
	w.WriteHeader(http.StatusNoContent)
}`,
    },
  ];
}
