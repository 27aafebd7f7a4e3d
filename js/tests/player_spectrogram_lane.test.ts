// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { CommandClient } from "../src/runtime/protocol.js";
import { SPECTROGRAM_DEBOUNCE_MS, SpectrogramLane } from "../src/widgets/player/spectrogram.js";
import { createTimeView } from "../src/widgets/player/timeview.js";

interface Asked {
  payload: Record<string, unknown>;
  resolve: (reply: { result: unknown; buffers: DataView[] }) => void;
}

/** A client whose replies the test sends, in any order. */
function fakeClient(): { client: CommandClient; asked: Asked[] } {
  const asked: Asked[] = [];
  const client = {
    request: (type: string, payload: Record<string, unknown>) => {
      expect(type).toBe("spectrogram.get");
      return new Promise((resolve) => asked.push({ payload, resolve }));
    },
  } as unknown as CommandClient;
  return { client, asked };
}

/** The kernel's answer to `a`: columns tiling the asked range (clock 0/1), 2 rows. */
function reply(a: Asked): { result: unknown; buffers: DataView[] } {
  const start = a.payload.start as number;
  const end = a.payload.end as number;
  const columns = a.payload.columns as number;
  const dt = (end - start) / columns;
  return {
    result: { dtype: "uint8", columns, rows: 2, time0: start + dt / 2, dt, fmax: 8000 },
    buffers: [new DataView(new Uint8Array(columns * 2).buffer)],
  };
}

function fakeCtx(): { ctx: CanvasRenderingContext2D; draws: number[][] } {
  const draws: number[][] = [];
  const ctx = {
    imageSmoothingEnabled: true,
    drawImage: (_img: unknown, x: number, y: number, w: number, h: number) => draws.push([x, y, w, h]),
  } as unknown as CanvasRenderingContext2D;
  return { ctx, draws };
}

const clock = { offset: 0, rate: 1 };
const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe("SpectrogramLane", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue(null);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  function make() {
    const { client, asked } = fakeClient();
    const root = document.createElement("div");
    const header = document.createElement("div");
    header.append(document.createElement("span"), document.createElement("button"));
    const onData = vi.fn();
    const lane = new SpectrogramLane(client, "mic", 10, root, header, 56, onData, vi.fn());
    return { lane, asked, root, header, onData };
  }

  it("toggles with its header button and shows text frequency labels", () => {
    const { lane, root, header } = make();
    expect(root.dataset.view).toBe("waveform");
    lane.button.click();
    expect(lane.on).toBe(true);
    expect(root.dataset.view).toBe("spectrogram");
    expect(lane.button.getAttribute("aria-pressed")).toBe("true");
    expect([...header.querySelectorAll(".accord-player-spectrogram-label")].map((e) => e.textContent)).toEqual(["8 kHz", "4 kHz", "0"]);
    lane.toggle();
    expect(root.dataset.view).toBe("waveform");
  });

  it("asks nothing while off, then an overview and, debounced, the visible range", async () => {
    const { lane, asked } = make();
    const view = createTimeView({ duration: 10, width: 1000, start: 2, secondsPerPixel: 0.001 });
    lane.want(view, clock);
    expect(asked).toHaveLength(0);
    lane.toggle(true);
    lane.want(view, clock);
    expect(asked).toHaveLength(1); // the overview
    expect(asked[0]!.payload).toMatchObject({ stream: "mic", start: 0, end: 10, columns: 1024, rows: 56, clock });
    for (let i = 0; i < 5; i++) {
      view.scrollTo(2 + i * 0.1);
      lane.want(view, clock);
      vi.advanceTimersByTime(SPECTROGRAM_DEBOUNCE_MS / 2);
    }
    expect(asked).toHaveLength(1); // still scrolling
    vi.advanceTimersByTime(SPECTROGRAM_DEBOUNCE_MS);
    expect(asked).toHaveLength(2);
    expect(asked[1]!.payload.start).toBeCloseTo(2.4);
    expect(asked[1]!.payload.end).toBeCloseTo(3.4);
    expect(asked[1]!.payload.columns).toBe(1000);
  });

  it("drops a reply that is not the latest request's, and stops asking once served", async () => {
    const { lane, asked, root } = make();
    const view = createTimeView({ duration: 10, width: 1000, start: 2, secondsPerPixel: 0.001 });
    lane.toggle(true);
    lane.want(view, clock);
    vi.advanceTimersByTime(SPECTROGRAM_DEBOUNCE_MS + 1);
    view.scrollTo(5);
    lane.want(view, clock);
    vi.advanceTimersByTime(SPECTROGRAM_DEBOUNCE_MS + 1);
    expect(asked).toHaveLength(3); // overview, 2–3 s, 5–6 s
    asked[2]!.resolve(reply(asked[2]!));
    await flush();
    asked[1]!.resolve(reply(asked[1]!)); // stale: arrives last
    await flush();
    const { ctx, draws } = fakeCtx();
    lane.draw(ctx, view, clock, 56);
    expect(draws).toHaveLength(1); // only the 5–6 s image (the overview is not in yet)
    expect(draws[0]![0]).toBeCloseTo(0);
    expect(draws[0]![2]).toBeCloseTo(1000);
    expect(root.dataset.spectrogramReady).toBe("1");
    lane.want(view, clock);
    vi.advanceTimersByTime(SPECTROGRAM_DEBOUNCE_MS + 1);
    expect(asked).toHaveLength(3); // served from the cache
  });

  it("places cached images through the current (previewed) clock", async () => {
    const { lane, asked } = make();
    const view = createTimeView({ duration: 20, width: 1000, start: 0, secondsPerPixel: 0.01 });
    lane.toggle(true);
    lane.want(view, clock);
    asked[0]!.resolve(reply(asked[0]!)); // overview: stream 0–10 s
    await flush();
    const { ctx, draws } = fakeCtx();
    lane.draw(ctx, view, { offset: 1.5, rate: 1 }, 56);
    expect(draws[0]![0]).toBeCloseTo(150); // item 1.5 s
    expect(draws[0]![2]).toBeCloseTo(1000);
  });
});
