// Only the Chart.js pieces the dashboard draws (bar and line charts on category/linear axes), so the bundle
// stays small; the page uses the global `Chart` exactly like the UMD build of Chart.js.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Title,
  Tooltip,
} from "chart.js";

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Title,
  Tooltip,
);

window.Chart = Chart;
