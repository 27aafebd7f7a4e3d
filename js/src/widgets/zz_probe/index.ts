import { getBus } from "../../runtime/index.js";
export default { render({ el }: { el: HTMLElement }) { el.textContent = String(getBus("k").last("t")); } };
