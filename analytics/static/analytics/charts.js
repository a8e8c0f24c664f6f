// Draws each analytics chart from the numbers the page also shows in a table
// (templates/admin/analytics/report.html). Chart.js is vendored (package.json).
"use strict";

(function () {
  const COLOURS = ["#417690", "#d9534f", "#5cb85c", "#f0ad4e", "#5bc0de", "#6f42c1", "#20c997"];

  function lineOrBar(canvas, data) {
    return new Chart(canvas, {
      type: data.type,
      data: {
        labels: data.labels,
        datasets: data.series.map((series, index) => ({
          label: series.label,
          data: series.data,
          borderColor: COLOURS[index % COLOURS.length],
          backgroundColor: COLOURS[index % COLOURS.length],
          spanGaps: true,
        })),
      },
      options: { responsive: true, maintainAspectRatio: false, animation: false },
    });
  }

  function integers(count) {
    return Array.from({ length: count }, (_, value) => ({ value }));
  }

  function hatched() {
    // Grey diagonal stripes: a cell with too few posts to go by.
    const tile = document.createElement("canvas");
    tile.width = tile.height = 8;
    const pen = tile.getContext("2d");
    pen.fillStyle = "#eeeeee";
    pen.fillRect(0, 0, 8, 8);
    pen.strokeStyle = "#888888";
    pen.lineWidth = 1.5;
    pen.beginPath();
    pen.moveTo(0, 8);
    pen.lineTo(8, 0);
    pen.stroke();
    return pen.createPattern(tile, "repeat");
  }

  function heatmap(canvas, data) {
    // Weekday × hour as bubbles: the larger and darker, the higher the mean engagements.
    // Cells below the confidence rule are hatched grey, in a dataset (and legend) of their own.
    const top = Math.max(1, ...data.cells.map((cell) => cell.mean || 0));
    const bubble = (cell) => ({
      x: cell.hour,
      y: cell.weekday,
      r: 3 + 12 * ((cell.mean || 0) / top),
      posts: cell.posts,
      mean: cell.mean,
    });
    const confident = data.cells.filter((cell) => cell.confident);
    const thin = data.cells.filter((cell) => !cell.confident);
    return new Chart(canvas, {
      type: "bubble",
      data: {
        datasets: [
          {
            label: `mean engagements per post (${data.min_posts} posts or more)`,
            data: confident.map(bubble),
            backgroundColor: confident.map(
              (cell) => `rgba(65, 118, 144, ${0.2 + 0.8 * ((cell.mean || 0) / top)})`
            ),
          },
          {
            label: `too few posts (under ${data.min_posts}): no advice`,
            data: thin.map(bubble),
            backgroundColor: hatched(),
            borderColor: "#888888",
            borderWidth: 1,
          },
        ],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: {
          x: {
            min: -0.5,
            max: 23.5,
            afterBuildTicks: (axis) => (axis.ticks = integers(24)),
            ticks: { callback: (value) => `${String(value).padStart(2, "0")}:00` },
            title: { display: true, text: "hour" },
          },
          y: {
            min: -0.5,
            max: 6.5,
            reverse: true,
            afterBuildTicks: (axis) => (axis.ticks = integers(7)),
            ticks: { callback: (value) => data.weekdays[value] },
          },
        },
        plugins: {
          tooltip: {
            callbacks: {
              label: (item) =>
                `${data.weekdays[item.raw.y]} ${item.raw.x}:00: ${item.raw.mean.toFixed(1)} (${item.raw.posts} posts)` +
                (item.datasetIndex === 1 ? ", too few posts" : ""),
            },
          },
        },
      },
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      const data = JSON.parse(document.getElementById(canvas.dataset.chart).textContent);
      canvas.chart = data.type === "heatmap" ? heatmap(canvas, data) : lineOrBar(canvas, data);
    });
  });
})();
