// The admin calendar (templates/admin/calendar.html) over Kairos's JSON feed.
//
// FullCalendar runs in UTC-coerced wall time: the feed sends each post's start as a
// wall time of the viewer's zone without offset, and the range and a dropped event's
// new start come back the same way, to be read in that zone by Kairos. So no
// time-zone plugin is needed, and what the grid shows is exactly what Kairos said.
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    const element = document.getElementById("calendar");
    const message = document.getElementById("calendar-message");
    const csrf = document.querySelector("[name=csrfmiddlewaretoken]").value;
    const zone = element.dataset.zone;
    // The filters chosen (the form's query string) go to the feed as they are.
    const filters = new URLSearchParams(window.location.search);
    filters.set("zone", zone);

    function say(text, kind) {
      message.textContent = text;
      message.className = kind;
    }

    function wall(isoString) {
      // "2026-12-05T09:00:00Z" or "2026-12-05": the wall time, without the coerced "Z".
      return isoString.replace(/Z$/, "").replace(/\+00:00$/, "");
    }

    // ?date=2026-12-05 opens the calendar there; ?view=week in the week view.
    const calendar = new FullCalendar.Calendar(element, {
      initialView: filters.get("view") === "week" ? "timeGridWeek" : "dayGridMonth",
      initialDate: filters.get("date") || undefined,
      timeZone: "UTC",
      firstDay: 1,
      height: "auto",
      headerToolbar: { left: "prev,next today", center: "title", right: "dayGridMonth,timeGridWeek" },
      buttonText: { today: "Today", month: "Month", week: "Week" },
      eventDisplay: "block",
      eventTimeFormat: { hour: "2-digit", minute: "2-digit", hour12: false },
      slotLabelFormat: { hour: "2-digit", minute: "2-digit", hour12: false },
      editable: true,
      eventDurationEditable: false,
      dayMaxEvents: 6,
      events: function (range, success, failure) {
        const query = new URLSearchParams(filters);
        query.set("start", wall(range.startStr));
        query.set("end", wall(range.endStr));
        fetch(element.dataset.feed + "?" + query.toString(), { credentials: "same-origin" })
          .then(function (response) {
            return response.json().then(function (body) {
              if (!response.ok) throw new Error(body.error || response.statusText);
              if (body.truncated.length) {
                say("Some recurring posts have too many occurrences to show them all: #" +
                    body.truncated.join(", #") + ".", "refused");
              }
              return body.events;
            });
          })
          .then(success)
          .catch(function (error) {
            say("The calendar could not be loaded: " + error.message, "refused");
            failure(error);
          });
      },
      eventDidMount: function (info) {
        const props = info.event.extendedProps;
        info.el.title = props.limit
          ? props.reason
          : props.account + " · " + props.status.replace("_", " ") + " · " + props.own_time;
        info.el.dataset.status = props.status || "limit";
      },
      eventDrop: function (info) {
        const body = new URLSearchParams({
          post: info.event.extendedProps.post,
          occurrence: info.event.extendedProps.occurrence,
          start: wall(info.event.startStr),
          zone: zone,
        });
        fetch(element.dataset.move, {
          method: "POST",
          credentials: "same-origin",
          headers: { "X-CSRFToken": csrf },
          body: body,
        })
          .then(function (response) {
            return response.json().then(function (answer) {
              if (!response.ok) throw new Error(answer.error || response.statusText);
              say(answer.message, "ok");
              calendar.refetchEvents();
            });
          })
          .catch(function (error) {
            info.revert();
            say("Not moved: " + error.message, "refused");
          });
      },
      dateClick: function (info) {
        const [day, time] = wall(info.dateStr).split("T");
        const query = new URLSearchParams({
          schedule_local_date: day,
          schedule_local_time: (time || "09:00:00").slice(0, 8),
          schedule_timezone: zone,
        });
        window.location.href = element.dataset.add + "?" + query.toString();
      },
    });
    calendar.render();
  });
})();
