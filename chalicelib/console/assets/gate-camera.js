// The camera as the gate's scanner (摄像头扫码): frames read by the browser's BarcodeDetector, or
// by the shipped jsQR where there is none (Chromium on Linux).
const FRAME_MS = 150;
const HELD_MS = 2000;        // a code held in view is scanned once; out of view this long, it counts again

// video: the page's <video>; say(text): the camera's state for the operator; onCode(text): a code
// read; paused(): true while the page waits for the operator (frames are not read meanwhile).
export async function startCamera(video, { say, onCode, paused }) {
  try {
    video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
  } catch (e) {
    say("无法打开摄像头：" + e.message);
    return;
  }
  await video.play();
  video.hidden = false;
  say("摄像头已开启，对准二维码");
  const detector = "BarcodeDetector" in window
    ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
  const canvas = document.createElement("canvas");
  let last = "", lastAt = 0;
  const frame = async () => {
    if (video.readyState >= 2 && !paused()) {
      let text = null;
      if (detector) {
        const found = await detector.detect(video).catch(() => []);
        text = found.length ? found[0].rawValue : null;
      } else if (window.jsQR) {
        canvas.width = video.videoWidth; canvas.height = video.videoHeight;
        const context = canvas.getContext("2d", { willReadFrequently: true });
        context.drawImage(video, 0, 0);
        const image = context.getImageData(0, 0, canvas.width, canvas.height);
        const found = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
        text = found ? found.data : null;
      }
      if (text && (text !== last || Date.now() - lastAt > HELD_MS)) {
        last = text; lastAt = Date.now();
        await onCode(text);
      } else if (text) {
        lastAt = Date.now();
      }
    }
    setTimeout(frame, FRAME_MS);
  };
  frame();
}
